import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BenchHarness, BenchOptions, chartSvg, checkTargets, scenarioTable, targetsTable } from '@outlet/bench';

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

/** `outlet bench`: every plan side by side through the real system, idle and under load. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'start Redis, the gateway and one node (trunk and branch pinned to different cores), drive it over HTTP with held-out digits, ' +
        'and compare full, serial, parallel, auto and oracle (the best fixed plan) — closed loop, open loop, and in-process without queues',
    )
    .option('--model <name>', 'model package to benchmark', 'branchy-bench')
    .option('--models-dir <dir>', 'folder of model packages', process.env.OUTLET_MODELS_DIR ?? 'models')
    .option('--quick', 'fewer requests: finishes in a few minutes', false)
    .option('--requests <n>', 'requests per strategy and load pattern (default 300, --quick 100)')
    .option('--oracle-requests <n>', 'requests per candidate plan in the oracle search (default 100, --quick 40)')
    .option('--concurrency <list>', 'closed-loop concurrencies', '1,4')
    .option('--open-rate <fraction>', "open-loop rate as a fraction of the full network's throughput at c=1", '0.5')
    .option('--load <u>', 'background CPU utilization of the loaded scenario', '0.5')
    .option('--scenarios <list>', 'idle and/or loaded', 'idle,loaded')
    .addOption(new Option('--trunk-ep <ep>', 'execution provider of the trunk').choices(['cpu', 'webgpu', 'cuda', 'auto']).default('cpu'))
    .option('--trunk-cpus <list>', 'taskset cores of the trunk worker', '0')
    .option('--branch-cpus <list>', 'taskset cores of the branch worker', '1')
    .option('--support-cpus <list>', "taskset cores of the gateway, Redis and the harness's HTTP client (keep them off the trunk's core)", '1')
    .option('--threads <n>', 'onnxruntime threads of each worker', '1')
    .option('--out <dir>', 'where the JSON and the chart go', 'bench-results')
    .action(async (opts) => {
      const load = Number(opts.load);
      const options: BenchOptions = {
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        requests: Number(opts.requests ?? (opts.quick ? 100 : 300)),
        oracleRequests: Number(opts.oracleRequests ?? (opts.quick ? 40 : 100)),
        concurrencies: list(opts.concurrency).map(Number),
        openRateFactor: Number(opts.openRate),
        scenarios: list(opts.scenarios).map((name) => ({ name, backgroundLoad: name === 'idle' ? 0 : load })),
        trunkEp: opts.trunkEp,
        trunkCpus: opts.trunkCpus || undefined,
        branchCpus: opts.branchCpus || undefined,
        supportCpus: opts.supportCpus || undefined,
        threads: Number(opts.threads),
        warmup: opts.quick ? 10 : 30,
        log: (line) => console.log(`bench: ${line}`),
      };
      for (const [name, v] of Object.entries({ requests: options.requests, 'oracle-requests': options.oracleRequests, threads: options.threads })) {
        if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
      }
      if (!(load >= 0 && load < 1)) throw new Error('--load must be a number from 0 to 1 (exclusive)');
      if (options.concurrencies.some((c) => !Number.isInteger(c) || c < 1) || !options.concurrencies.includes(1)) {
        throw new Error('--concurrency must list positive integers including 1 (the baseline)');
      }
      const started = new Date();
      const report = await new BenchHarness(options).run();
      const checks = checkTargets(report.scenarios);
      console.log('');
      for (const s of report.scenarios) console.log(`${scenarioTable(s)}\n`);
      console.log('Targets (ratios from this run):');
      console.log(targetsTable(checks));
      mkdirSync(opts.out, { recursive: true });
      const stamp = started.toISOString().replace(/[:.]/g, '-');
      const base = join(opts.out, `${options.model}-${options.trunkEp}-${stamp}`);
      writeFileSync(`${base}.json`, JSON.stringify({ startedAt: started.toISOString(), ...report, targets: checks }, null, 2));
      writeFileSync(`${base}.svg`, chartSvg(report.scenarios, options.model));
      console.log(`\nwrote ${base}.json and ${base}.svg (latency CDF)`);
    });
}
