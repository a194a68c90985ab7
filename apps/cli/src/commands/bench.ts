import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchHarness, BenchOptions, SystemPlacement, CORRUPTIONS, CorruptionName, DRIFT_MODES, DriftBench, DriftBenchOptions, DriftMode, chartSvg, checkTargets, driftChartSvg, driftReportMarkdown, driftReportText, scenarioTable, targetsTable } from '@outlet/bench';
import { defaultThreadBudget, nodeCores } from '@outlet/config';
import { compactJson, modelsHome } from '@outlet/model-package';
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

/** Tasks per phase of `bench --drift` (clean, corrupted, clean again) and the corrupted phase's settling tasks. */
const DRIFT_TASKS = [600, 2000, 8000];
const DRIFT_TASKS_QUICK = [150, 800, 750];
const DRIFT_SETTLE = 1000;
const DRIFT_SETTLE_QUICK = 400;
const AUDIT_SECONDS = 30;
const AUDIT_SECONDS_QUICK = 10;

const positiveInt = (name: string, text: string) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, not '${text}'`);
  return v;
};

/** `outlet bench --drift`: thresholds under data drift through the real system (see @outlet/bench DriftBench). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
/** The system's placement from the options: the node's thread budget and core layout unless given. */
function systemPlacement(opts: Record<string, any>, cores: number): SystemPlacement {
  const budget = defaultThreadBudget(cores, opts.trunkEp);
  const trunkThreads = positiveInt('trunk-threads', String(opts.trunkThreads ?? opts.threads ?? budget.trunk));
  const branchThreads = positiveInt('branch-threads', String(opts.branchThreads ?? opts.threads ?? budget.branch));
  const layout = defaultCpuLayout(cores, trunkThreads, branchThreads);
  return {
    trunkEp: opts.trunkEp,
    trunkCpus: (opts.trunkCpus ?? layout.trunk) || undefined,
    branchCpus: (opts.branchCpus ?? layout.branch) || undefined,
    supportCpus: (opts.supportCpus ?? layout.support) || undefined,
    trunkThreads,
    branchThreads,
    warmup: opts.quick ? 10 : 30,
  };
}

function driftLoad(text: string | undefined): number {
  const load = Number(text ?? 1);
  if (!(load > 0 && load <= 1)) throw new Error(`--drift-load must be above 0 and at most 1, not '${text}'`);
  return load;
}

async function runDrift(opts: Record<string, any>, cmd: Command): Promise<void> {
  const cores = nodeCores();
  const phases = commaList(opts.driftTasks ?? (opts.quick ? DRIFT_TASKS_QUICK : DRIFT_TASKS).join(',')).map((x) => positiveInt('drift-tasks', x));
  if (phases.length !== 3) throw new Error('--drift-tasks takes three counts: clean,corrupted,clean');
  const corruptions = commaList(opts.corruptions);
  for (const c of corruptions) if (!(CORRUPTIONS as readonly string[]).includes(c)) throw new Error(`--corruptions: '${c}' is none of ${CORRUPTIONS.join(', ')}`);
  const modes = commaList(opts.driftModes);
  for (const m of modes) if (!(DRIFT_MODES as readonly string[]).includes(m)) throw new Error(`--drift-modes: '${m}' is none of ${DRIFT_MODES.join(', ')}`);
  const rounds = Number(opts.auditRounds);
  if (!Number.isInteger(rounds) || rounds < 0) throw new Error('--audit-rounds must be a whole number');
  const auditRate = Number(opts.auditRate);
  if (!(auditRate > 0 && auditRate <= 1)) throw new Error('--audit-rate must be above 0 and at most 1');
  const seed = Number(opts.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed must be a whole number');
  const options: DriftBenchOptions = {
    models: commaList(opts.models),
    modelsDir: resolve(opts.modelsDir),
    corruptions: corruptions as CorruptionName[],
    modes: modes as DriftMode[],
    phases: phases as [number, number, number],
    load: driftLoad(opts.driftLoad),
    settle: positiveInt('drift-settle', String(opts.driftSettle ?? (opts.quick ? DRIFT_SETTLE_QUICK : DRIFT_SETTLE))),
    seed,
    ...systemPlacement(opts, cores),
    referenceThreads: positiveInt('reference-threads', String(opts.referenceThreads ?? cores)),
    auditCost:
      rounds > 0
        ? { concurrency: positiveInt('audit-concurrency', String(opts.auditConcurrency)), seconds: positiveInt('audit-seconds', String(opts.auditSeconds ?? (opts.quick ? AUDIT_SECONDS_QUICK : AUDIT_SECONDS))), rounds, rate: auditRate }
        : undefined,
    log: (line) => console.log(`bench --drift: ${line}`),
  };
  if (options.models.length === 0) throw new Error('--models names no model');
  const out = cmd.getOptionValueSource('out') === 'default' ? join(opts.out, 'drift') : opts.out;
  const started = new Date();
  const header = {
    command: `outlet ${process.argv.slice(2).join(' ')}  (${[process.execPath, ...process.argv.slice(1)].join(' ')})`,
    startedAt: started.toISOString(),
    cpuLayout:
      `trunk ${options.trunkEp} with ${options.trunkThreads} thread(s) on core(s) ${options.trunkCpus ?? 'any'}, branch ${options.branchThreads} thread(s) on ${options.branchCpus ?? 'any'}, ` +
      `gateway, Redis and the client on ${options.supportCpus ?? 'any'} (taskset)`,
  };
  console.log(`bench --drift: ${header.command}`);
  const report = await new DriftBench(options).run();
  const text = `${driftReportText(report, header)}\nload average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  console.log('');
  console.log(text);
  mkdirSync(out, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const name = `drift-${options.models.join('+')}-${stamp}`;
  const base = join(out, name);
  const files = { json: `${name}.json`, svg: `${name}.svg`, text: `${name}.txt` };
  writeFileSync(`${base}.json`, `${compactJson({ startedAt: started.toISOString(), command: header.command, ...report })}\n`);
  writeFileSync(`${base}.txt`, `${text}\n`);
  writeFileSync(`${base}.svg`, driftChartSvg(report));
  writeFileSync(`${base}.md`, driftReportMarkdown(report, header, files));
  console.log(`\nwrote ${base}.json, ${base}.txt, ${base}.md and ${base}.svg (rolling agreement, segments and live thresholds)`);
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
    .option('--models-dir <dir>', 'folder of model packages', modelsHome())
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
    .option('--out <dir>', 'where the JSON and the chart go (--drift: bench-results/drift)', 'bench-results')
    .option('--drift', 'instead: exit thresholds under data drift, static vs adaptive (clean → corrupted → clean on a fresh system per run), and the audits\' cost', false)
    .option('--models <list>', '--drift: model packages', 'branchy-mnist,branchy-bench')
    .option('--drift-tasks <clean,corrupted,clean>', `--drift: tasks per phase (default ${DRIFT_TASKS.join(',')}, --quick ${DRIFT_TASKS_QUICK.join(',')})`)
    .option('--drift-load <share>', '--drift: the share of time the client keeps the system busy; below 1 it waits after each answer for its latency × (1/share − 1) (default 1: closed loop)')
    .option('--drift-settle <n>', `--drift: the corrupted phase's agreement criterion counts the tasks after its first n (default ${DRIFT_SETTLE}, --quick ${DRIFT_SETTLE_QUICK})`)
    .option('--corruptions <list>', `--drift: any of ${CORRUPTIONS.join(', ')}`, CORRUPTIONS.join(','))
    .option('--drift-modes <list>', `--drift: any of ${DRIFT_MODES.join(', ')} (static: OUTLET_ADAPT=off; adaptive: default settings)`, DRIFT_MODES.join(','))
    .option('--seed <n>', '--drift: seed of the digit order and the noise', '1')
    .option('--audit-seconds <s>', `--drift: length of each block of the audit-cost comparison (default ${AUDIT_SECONDS}, --quick ${AUDIT_SECONDS_QUICK})`)
    .option('--audit-rounds <n>', '--drift: pairs of blocks, audits on and off (0: no audit-cost comparison)', '2')
    .option('--audit-concurrency <n>', '--drift: closed-loop clients of the audit-cost comparison', '4')
    .option('--audit-rate <r>', '--drift: OUTLET_AUDIT_RATE of the blocks with audits on', '0.05')
    .option('--reference-threads <n>', '--drift: threads computing the in-process reference before the runs (default: every core)')
    .action(async (opts, cmd: Command) => {
      if (opts.drift) return runDrift(opts, cmd);
      const load = Number(opts.load);
      const cores = nodeCores();
      const options: BenchOptions = {
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        requests: Number(opts.requests ?? (opts.quick ? 100 : 300)),
        oracleRequests: Number(opts.oracleRequests ?? (opts.quick ? 30 : 100)),
        openRequests: opts.openRequests !== undefined ? Number(opts.openRequests) : opts.quick ? 30 : undefined,
        concurrencies: commaList(opts.concurrency).map(Number),
        openRateFactor: Number(opts.openRate),
        scenarios: commaList(opts.scenarios).map((name) => ({ name, backgroundLoad: name === 'idle' ? 0 : load })),
        ...systemPlacement(opts, cores),
        log: (line) => console.log(`bench: ${line}`),
      };
      for (const [name, v] of Object.entries({ requests: options.requests, 'oracle-requests': options.oracleRequests })) {
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
