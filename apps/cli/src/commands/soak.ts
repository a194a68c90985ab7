import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SoakRun, soakChartSvg, soakText } from '@outlet/bench';

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** `outlet soak`: a steady load for N minutes; memory per process and task leftovers over time. */
export function registerSoak(program: Command): void {
  program
    .command('soak')
    .description(
      'start Redis, a gateway and one node, hold a steady load for N minutes sampling the RSS of every process, Redis used_memory ' +
        'and the keys and feature files tasks leave; print a memory table, whether RSS stayed flat after warm-up and the leftovers once ' +
        'the load stops; write JSON, text and an SVG chart; exit 1 if RSS grew, leftovers remain, or a task was lost or wrong',
    )
    .requiredOption('--minutes <n>', 'minutes of load')
    .option('--model <name>', 'model package to serve', 'branchy-mnist')
    .option('--models-dir <dir>', 'folder of model packages', process.env.OUTLET_MODELS_DIR ?? 'models')
    .option('--rate <n>', 'tasks per second (open loop)', '20')
    .option('--async-share <fraction>', 'share of tasks sent as jobs (POST /v1/jobs)', '0.5')
    .option('--plans <list>', 'plans the tasks name, in turn', 'parallel,auto')
    .option('--digits <n>', 'distinct held-out MNIST digits sent in turn', '200')
    .option('--sample-s <s>', 'seconds between samples', '5')
    .option('--out <dir>', 'where the JSON, text and SVG chart go', 'soak-results')
    .action(async (opts) => {
      const minutes = Number(opts.minutes);
      const rate = Number(opts.rate);
      const asyncShare = Number(opts.asyncShare);
      const sampleS = Number(opts.sampleS);
      const digits = Number(opts.digits);
      if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
      if (!(rate > 0)) throw new Error('--rate must be a positive number');
      if (!(asyncShare >= 0 && asyncShare <= 1)) throw new Error('--async-share must be a number from 0 to 1');
      if (!(sampleS > 0)) throw new Error('--sample-s must be a positive number');
      if (!(Number.isInteger(digits) && digits > 0)) throw new Error('--digits must be a positive integer');
      const started = new Date();
      const report = await new SoakRun({
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        minutes,
        ratePerS: rate,
        asyncShare,
        plans: list(opts.plans),
        digits,
        sampleMs: sampleS * 1000,
        log: (line) => console.log(`soak: ${line}`),
      }).run();
      const text = `${soakText(report)}\n`;
      console.log(`\n${text}`);
      mkdirSync(opts.out, { recursive: true });
      const base = join(opts.out, `soak-${opts.model}-${started.toISOString().replace(/[:.]/g, '-')}`);
      writeFileSync(`${base}.json`, JSON.stringify({ startedAt: started.toISOString(), ...report }, null, 2));
      writeFileSync(`${base}.txt`, text);
      writeFileSync(`${base}.svg`, soakChartSvg(report));
      console.log(`wrote ${base}.json, ${base}.txt and ${base}.svg (memory and leftovers over time)`);
      const clean = report.rssFlat && report.settledAfterS !== null && report.load.lost === 0 && report.load.wrong === 0;
      process.exitCode = clean ? 0 : 1;
    });
}
