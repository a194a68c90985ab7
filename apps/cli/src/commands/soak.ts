import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { modelsHome } from '@outlet/model-package';
import { SoakRun, soakChartSvg, soakText } from '@outlet/bench';
import { commaList, numberIn, positiveInteger, positiveNumber } from '../offline/option-parsers';


/** `outlet soak`: a steady load for N minutes; memory per process and task leftovers over time. */
export function registerSoak(program: Command): void {
  program
    .command('soak')
    .description(
      'start Redis, a gateway and one node, hold a steady load for N minutes sampling the RSS of every process, Redis used_memory ' +
        'and the keys and feature files tasks leave; print a memory table, whether RSS stayed flat after warm-up and the leftovers once ' +
        'the load stops; write JSON, text and an SVG chart; exit 1 if RSS grew, leftovers remain, or a task was lost or wrong',
    )
    .requiredOption('--minutes <n>', 'minutes of load', positiveNumber)
    .option('--model <name>', 'model package to serve', 'branchy-mnist')
    .option('--models-dir <dir>', 'folder of model packages', modelsHome())
    .option('--rate <n>', 'tasks per second (open loop)', positiveNumber, 20)
    .option('--async-share <fraction>', 'share of tasks sent as jobs (POST /v1/jobs)', numberIn(0, 1), 0.5)
    .option('--plans <list>', 'plans the tasks name, in turn', commaList, ['parallel', 'auto'])
    .option('--digits <n>', 'distinct held-out MNIST digits sent in turn', positiveInteger, 200)
    .option('--sample-s <s>', 'seconds between samples', positiveNumber, 5)
    .option('--out <dir>', 'where the JSON, text and SVG chart go', 'soak-results')
    .action(async (opts) => {
      const started = new Date();
      const report = await new SoakRun({
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        minutes: opts.minutes,
        ratePerS: opts.rate,
        asyncShare: opts.asyncShare,
        plans: opts.plans,
        digits: opts.digits,
        sampleMs: opts.sampleS * 1000,
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
