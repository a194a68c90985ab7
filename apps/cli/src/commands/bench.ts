import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchHarness, BenchOptions, chartSvg, checkTargets, scenarioTable, targetsTable } from '@outlet/bench';
import { defaultThreadBudget, nodeCores } from '@outlet/config';
import { commaList } from '../offline/option-parsers';

const span = (from: number, count: number) => (count <= 1 ? String(from) : `${from}-${from + count - 1}`);

/**
 * Where the node's processes go when the flags leave it open: on 2 cores (or fewer than the
 * threads need), trunk on core 0, branch, gateway, Redis and client on core 1, as before; with
 * more cores, the trunk's threads on the first cores, the branch's on the next ones, and the
 * gateway, Redis and the client on the rest.
 */
export function defaultCpuLayout(cores: number, trunkThreads: number, branchThreads: number) {
  if (cores <= 2 || trunkThreads + branchThreads >= cores) return { trunk: '0', branch: cores > 1 ? '1' : '0', support: cores > 1 ? '1' : '0' };
  const supportFrom = trunkThreads + branchThreads;
  return { trunk: span(0, trunkThreads), branch: span(trunkThreads, branchThreads), support: span(supportFrom, cores - supportFrom) };
}

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
    .option('--oracle-requests <n>', 'requests per candidate plan in the oracle search (default 100, --quick 30)')
    .option('--open-requests <n>', 'requests per strategy in the open loop (default: --requests; --quick 30)')
    .option('--concurrency <list>', 'closed-loop concurrencies (throughput is reported at each above 1)', '1,4,8')
    .option('--open-rate <fraction>', "open-loop rate as a fraction of the full network's throughput at c=1", '0.5')
    .option('--load <u>', 'background CPU utilization of the loaded scenario', '0.5')
    .option('--scenarios <list>', 'idle and/or loaded', 'idle,loaded')
    .addOption(new Option('--trunk-ep <ep>', 'execution provider of the trunk').choices(['cpu', 'webgpu', 'cuda', 'auto']).default('cpu'))
    .option('--trunk-cpus <list>', 'taskset cores of the trunk worker (default: 0; with more than 2 cores, one per trunk thread)')
    .option('--branch-cpus <list>', 'taskset cores of the branch worker (default: 1; with more than 2 cores, one per branch thread after the trunk\'s)')
    .option('--support-cpus <list>', "taskset cores of the gateway, Redis and the harness's HTTP client, off the trunk's cores (default: 1; with more cores, the rest)")
    .option('--trunk-threads <n>', "onnxruntime threads of the trunk (default: the node's budget, defaultThreadBudget(cores, trunk ep); 1 on 2 cores)")
    .option('--branch-threads <n>', "onnxruntime threads of the branch heads (default: the node's budget; 1 on 2 cores, 4 on 16 cores with an accelerator trunk)")
    .option('--threads <n>', 'both thread counts at once (older flag)')
    .option('--out <dir>', 'where the JSON and the chart go', 'bench-results')
    .action(async (opts) => {
      const load = Number(opts.load);
      const cores = nodeCores();
      const budget = defaultThreadBudget(cores, opts.trunkEp);
      const trunkThreads = Number(opts.trunkThreads ?? opts.threads ?? budget.trunk);
      const branchThreads = Number(opts.branchThreads ?? opts.threads ?? budget.branch);
      const layout = defaultCpuLayout(cores, trunkThreads, branchThreads);
      const options: BenchOptions = {
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        requests: Number(opts.requests ?? (opts.quick ? 100 : 300)),
        oracleRequests: Number(opts.oracleRequests ?? (opts.quick ? 30 : 100)),
        openRequests: opts.openRequests !== undefined ? Number(opts.openRequests) : opts.quick ? 30 : undefined,
        concurrencies: commaList(opts.concurrency).map(Number),
        openRateFactor: Number(opts.openRate),
        scenarios: commaList(opts.scenarios).map((name) => ({ name, backgroundLoad: name === 'idle' ? 0 : load })),
        trunkEp: opts.trunkEp,
        trunkCpus: (opts.trunkCpus ?? layout.trunk) || undefined,
        branchCpus: (opts.branchCpus ?? layout.branch) || undefined,
        supportCpus: (opts.supportCpus ?? layout.support) || undefined,
        trunkThreads,
        branchThreads,
        warmup: opts.quick ? 10 : 30,
        log: (line) => console.log(`bench: ${line}`),
      };
      for (const [name, v] of Object.entries({ requests: options.requests, 'oracle-requests': options.oracleRequests, 'trunk-threads': trunkThreads, 'branch-threads': branchThreads })) {
        if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
      }
      if (!(load >= 0 && load < 1)) throw new Error('--load must be a number from 0 to 1 (exclusive)');
      if (options.concurrencies.some((c) => !Number.isInteger(c) || c < 1) || !options.concurrencies.includes(1)) {
        throw new Error('--concurrency must list positive integers including 1 (the baseline)');
      }
      const started = new Date();
      const report = await new BenchHarness(options).run();
      const checks = checkTargets(report.scenarios);
      const text = [
        `outlet bench ${options.model}, trunk ${options.trunkEp}, started ${started.toISOString()} (${cores} cores)`,
        '',
        ...report.scenarios.map((s) => `${scenarioTable(s)}\n`),
        `Targets (ratios from this run; ${cores} cores, trunk ${options.trunkThreads} thread(s) on ${options.trunkCpus ?? 'any'}, branch ${options.branchThreads} on ${options.branchCpus ?? 'any'}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`,
        targetsTable(checks),
      ].join('\n');
      console.log('');
      console.log(text);
      mkdirSync(opts.out, { recursive: true });
      const stamp = started.toISOString().replace(/[:.]/g, '-');
      const base = join(opts.out, `${options.model}-${options.trunkEp}-${stamp}`);
      writeFileSync(`${base}.json`, JSON.stringify({ startedAt: started.toISOString(), ...report, targets: checks }, null, 2));
      writeFileSync(`${base}.txt`, `${text}\n`);
      writeFileSync(`${base}.svg`, chartSvg(report.scenarios, options.model));
      console.log(`\nwrote ${base}.json, ${base}.txt and ${base}.svg (latency CDF)`);
    });
}
