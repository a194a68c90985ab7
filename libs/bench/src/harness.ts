import { execFileSync } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { queueOptions } from '@outlet/config';
import { BranchResult, Placement, TrunkTelemetry, branchQueueName, formatPlan, inferQueueName, parsePlan } from '@outlet/contracts';
import { ExecutionProvider } from '@outlet/inference';
import { ModelPackage, PlanTable, earlyExitCount, loadModelPackage, planForUtilization, planTableFile, readPackageJson } from '@outlet/model-package';
import { measureUtilization } from '@outlet/profiler';
import { ManagedProcess, OutletSystem, appEntry } from '@outlet/supervisor';
import { bareHttpFloorP50, closedLoop, encodeBodies, interleavedLoop, openLoop, RunResult, Sample, variantOrder } from './http-driver';
import { InProcessRunner } from './in-process';
import { heldOutRequests, LabelledRequest } from './request-set';
import { LatencyStats, latencyStats } from './stats';

export const STRATEGIES = ['full', 'serial', 'parallel', 'auto', 'oracle'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Where a benchmarked system's processes run: the trunk's provider, their cores and threads. */
export interface SystemPlacement {
  trunkEp: ExecutionProvider | 'auto';
  trunkCpus?: string;
  branchCpus?: string;
  /** Cores of the gateway, Redis and this process's HTTP client: off the trunk's core. */
  supportCpus?: string;
  /** onnxruntime intra-op threads of the trunk worker's sessions (and of the in-process trunk). */
  trunkThreads: number;
  /** onnxruntime intra-op threads of the branch worker's heads (and of the in-process head thread). */
  branchThreads: number;
  /** Requests sent before each measured run (not counted). */
  warmup: number;
}

/**
 * Redis, a gateway and one node placed as `placement` says (processes pinned to its cores, its
 * thread budgets), on the models of `modelsDir`; `env` goes to every process. The gateway is the
 * run's own, measured without keys or rate limits even where the shell sets them.
 */
export function startPlacedSystem(placement: SystemPlacement, modelsDir: string, nodeId: string, env: Record<string, string>): Promise<OutletSystem> {
  const o = placement;
  return OutletSystem.start({
    quiet: true,
    gatewayCpus: o.supportCpus,
    redisCpus: o.supportCpus,
    // The node plans from the package's profile and plan table, the ones the harness predicts
    // from: no self-profiling load during a run, no re-plan from observed times mid-run.
    env: { OUTLET_MODELS_DIR: modelsDir, OUTLET_TRUNK_EP: o.trunkEp, OUTLET_SELF_PROFILE: 'off', OUTLET_REPLAN_RATIO: '100', ...env },
    gatewayEnv: { OUTLET_DEFAULT_PLAN: 'auto', OUTLET_BODY_LIMIT: '4mb', OUTLET_API_KEYS: '', OUTLET_RATE_LIMIT: '' },
    nodes: [
      {
        nodeId,
        trunkCpus: o.trunkCpus,
        branchCpus: o.branchCpus,
        trunkEnv: { OUTLET_TRUNK_THREADS: String(o.trunkThreads) },
        branchEnv: { OUTLET_BRANCH_THREADS: String(o.branchThreads) },
      },
    ],
  });
}

export interface BenchOptions extends SystemPlacement {
  model: string;
  modelsDir: string;
  /** Requests per strategy and load pattern. */
  requests: number;
  /** Requests per candidate plan when searching for the oracle. */
  oracleRequests: number;
  concurrencies: number[];
  /** Requests per strategy in the open loop (default: `requests`). */
  openRequests?: number;
  /** Open-loop rate as a fraction of the full network's closed-loop throughput at concurrency 1. */
  openRateFactor: number;
  scenarios: { name: string; backgroundLoad: number }[];
  log: (line: string) => void;
}

/** Summary of one strategy under one load pattern. */
export interface RunSummary {
  pattern: string;
  latency: LatencyStats;
  throughputPerS: number;
  accuracy: number;
  exits: number[];
  /** Segments the trunk started after the answer was decided (its telemetry; in process, its own record). */
  wastedSegmentsMean: number;
  /** Samples that had a wasted-segment record. */
  wastedSegmentsN: number;
  plans: Record<string, number>;
  /** Answers by the worker that decided them. */
  workers: Record<string, number>;
  /** Decision → answer in the gateway (`delivery_ms`), branch- and trunk-answered samples apart. */
  deliveryBranchMs?: LatencyStats;
  deliveryTrunkMs?: LatencyStats;
  /** System runs: p50 of ingress, queue, delivery and the client's share, ms. */
  stagesP50Ms?: { ingress: number; queue: number; delivery: number; client: number };
  errors: number;
}

export interface StrategyReport {
  strategy: Strategy | 'serial-separate';
  runs: RunSummary[];
  inProcess?: RunSummary;
  /** End-to-end p50 minus in-process p50 at concurrency 1. */
  overheadP50Ms?: number;
  /** Latencies at concurrency 1 (for the CDF chart). */
  latenciesC1Ms: number[];
}

export interface ScenarioReport {
  name: string;
  backgroundLoad: number;
  measuredLoad: number;
  oracle: { plan: string; searched: { plan: string; meanMs: number }[] };
  openRatePerS: number;
  strategies: StrategyReport[];
  /** In-process only: serial with inline heads as separate calls (segment, then head) instead of fused. */
  serialSeparate?: RunSummary;
  /** p50 round trip of the same bodies to a bare node:http server that parses them: the floor under any HTTP + JSON front end. */
  httpFloorP50Ms?: number;
  abortReactionMs?: LatencyStats;
  handoffMs?: LatencyStats;
  /** Decision → answer in the gateway over every strategy's c=1 samples, branch and trunk answers apart. */
  deliveryBranchMs?: LatencyStats;
  deliveryTrunkMs?: LatencyStats;
  /** The trunk's execution provider, as the answers say. */
  trunkEp: string;
  /** The planner's predictions from the plan table row the trunk used (absent without a table). */
  predictions?: PlanPredictions;
}

/** The plan table row the trunk used, and what it predicts per strategy. */
export interface PlanPredictions {
  file: string;
  /** The utilization the row was looked up at (the trunk's reading in auto's answers, else the measured load). */
  cpuUtil: number;
  row: { cpu_util_max: number; cpu_util: number; plan: string; backlog_plan?: string };
  /** Predicted expected latency (one task alone), ms. */
  latencyMs: Partial<Record<Strategy, number>>;
  /** Predicted tasks/s with a backlog (auto: its backlog plan). */
  tasksPerS: Partial<Record<Strategy, number>>;
}

/** Medians of the system's stages (absent in process): where the overhead goes. */
function stageMedians(s: Sample[]): RunSummary['stagesP50Ms'] {
  const p50 = (pick: (x: Sample) => number | undefined) => {
    const v = s.map(pick).filter((x): x is number => typeof x === 'number');
    return v.length ? latencyStats(v).p50Ms : undefined;
  };
  const ingress = p50((x) => x.ingressMs);
  if (ingress === undefined) return undefined;
  return { ingress, queue: p50((x) => x.queueMs)!, delivery: p50((x) => x.deliveryMs)!, client: p50((x) => x.clientMs)! };
}

function summarize(pattern: string, run: RunResult, exitCount: number, telemetry?: Map<string, TrunkTelemetry>): RunSummary {
  const s = run.samples;
  const exits = new Array(exitCount).fill(0);
  const plans: Record<string, number> = {};
  const workers: Record<string, number> = {};
  for (const x of s) {
    exits[x.exitIndex]++;
    plans[x.plan] = (plans[x.plan] ?? 0) + 1;
    workers[x.exitWorker] = (workers[x.exitWorker] ?? 0) + 1;
  }
  // The system's wasted segments come from the trunk's telemetry (its job's log), in process from the runner's record.
  const wasted = s
    .map((x) => (telemetry ? telemetry.get(x.taskId)?.segmentsAfterAnswer : x.wastedSegments))
    .filter((v): v is number => typeof v === 'number');
  const delivery = (worker: string) => {
    const v = s.filter((x) => x.exitWorker === worker && typeof x.deliveryMs === 'number').map((x) => x.deliveryMs!);
    return v.length ? latencyStats(v) : undefined;
  };
  return {
    pattern,
    latency: latencyStats(s.map((x) => x.latencyMs)),
    throughputPerS: (s.length / run.wallMs) * 1000,
    accuracy: s.filter((x) => x.correct).length / Math.max(1, s.length),
    exits,
    wastedSegmentsMean: wasted.length ? wasted.reduce((a, b) => a + b, 0) / wasted.length : NaN,
    wastedSegmentsN: wasted.length,
    plans,
    workers,
    deliveryBranchMs: delivery('branch'),
    deliveryTrunkMs: delivery('trunk'),
    stagesP50Ms: stageMedians(s),
    errors: run.errors.length,
  };
}

/** Requests per block when closed loops at c > 1 take turns. */
const CLOSED_BLOCK = 50;

/**
 * Closed loops at concurrency `c` for several variants, block by block: in each block every
 * variant runs its next CLOSED_BLOCK requests, in a seeded shuffled order. A variant's result
 * joins its blocks (samples, and the wall time of its own blocks only).
 */
async function interleavedClosedLoops(url: string, bodies: string[][], labels: number[], c: number): Promise<RunResult[]> {
  const results: RunResult[] = bodies.map(() => ({ samples: [], wallMs: 0, errors: [] }));
  for (let b = 0, start = 0; start < labels.length; b++, start += CLOSED_BLOCK) {
    const end = Math.min(labels.length, start + CLOSED_BLOCK);
    for (const k of variantOrder(bodies.length, b)) {
      const run = await closedLoop(url, bodies[k].slice(start, end), labels.slice(start, end), c);
      results[k].samples.push(...run.samples);
      results[k].errors.push(...run.errors);
      results[k].wallMs += run.wallMs;
    }
  }
  return results;
}

/** Every fixed plan: 3^n placements of the n early exits. */
export function allPlans(earlyExits: number): Placement[][] {
  let plans: Placement[][] = [[]];
  for (let i = 0; i < earlyExits; i++) plans = plans.flatMap((p) => (['branch', 'trunk', 'skip'] as Placement[]).map((x) => [...p, x]));
  return plans;
}

function mostCommon(record: Record<string, number>): string {
  return Object.entries(record).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
}

/**
 * A co-located workload on every core: `outlet load u` in a process of its own, so pinning the
 * harness's client does not pin the load.
 */
class BackgroundLoad {
  private process?: ManagedProcess;

  async start(u: number): Promise<void> {
    this.process = new ManagedProcess({
      name: 'background-load',
      command: process.execPath,
      args: [appEntry('cli'), 'load', String(u), '--seconds', '86400'],
      // Every core: a child inherits the harness's pinning otherwise.
      cpus: `0-${cpus().length - 1}`,
      readyPattern: /busy loop/,
      onLine: null,
    });
    await this.process.ready;
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGKILL');
    this.process = undefined;
  }
}

/** Move every thread of this process to `cpus` (taskset); undefined leaves it where it is. */
function pinThisProcess(cpus: string | undefined): void {
  if (cpus) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

function unionCpus(a?: string, b?: string): string | undefined {
  if (!a || !b) return undefined;
  return [...new Set([...a.split(','), ...b.split(',')])].join(',');
}

const median = (values: number[]) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
};

export class BenchHarness {
  private readonly pkg: ModelPackage;
  private readonly requests: LabelledRequest[];
  /** The in-process baseline, opened on the trunk's execution provider once the system's answers name it. */
  private inProcess?: { ep: ExecutionProvider; runner: InProcessRunner };

  constructor(private readonly options: BenchOptions) {
    this.pkg = loadModelPackage(join(options.modelsDir, options.model));
    this.requests = heldOutRequests(this.pkg.manifest, Math.max(options.requests, options.oracleRequests));
  }

  async run() {
    const o = this.options;
    const m = this.pkg.manifest;
    o.log(
      `starting Redis, gateway and one node (trunk on cores ${o.trunkCpus ?? 'any'} with ${o.trunkThreads} thread(s), branch on ${o.branchCpus ?? 'any'} ` +
        `with ${o.branchThreads} thread(s), gateway, Redis and client on ${o.supportCpus ?? 'any'}, trunk ep ${o.trunkEp})`,
    );
    const system = await startPlacedSystem(o, o.modelsDir, 'bench-node', { OUTLET_JOB_RETENTION: '100000' });
    const load = new BackgroundLoad();
    const inferQueue = new Queue(inferQueueName(m.name), queueOptions(inferQueueName(m.name), system.redisUrl));
    const branchQueue = new Queue(branchQueueName('bench-node'), queueOptions(branchQueueName('bench-node'), system.redisUrl));
    try {
      const scenarios: ScenarioReport[] = [];
      for (const scenario of o.scenarios) {
        scenarios.push(await this.scenario(system, load, inferQueue, branchQueue, scenario));
      }
      return {
        model: m.name,
        modelVersion: m.version,
        machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model },
        options: { ...o, log: undefined },
        scenarios,
      };
    } finally {
      await load.stop();
      await this.inProcess?.runner.close();
      await inferQueue.close();
      await branchQueue.close();
      await system.stop();
    }
  }

  /** The in-process runner on `ep` with the system's thread counts (reopened if the EP changed). */
  private async inProcessRunner(ep: ExecutionProvider): Promise<InProcessRunner> {
    if (this.inProcess?.ep === ep) return this.inProcess.runner;
    await this.inProcess?.runner.close();
    const runner = await InProcessRunner.open(this.pkg, ep, this.options.trunkThreads, this.options.branchThreads);
    this.inProcess = { ep, runner };
    return runner;
  }

  private url(system: OutletSystem) {
    return `${system.baseUrl}/v2/models/${this.pkg.manifest.name}/infer`;
  }

  private bodies(count: number, plan: string) {
    const m = this.pkg.manifest;
    const set = this.requests.slice(0, count);
    return { bodies: encodeBodies(set, [1, ...m.input.shape.slice(1)], m.input.name, { plan }), labels: set.map((r) => r.label) };
  }

  private async scenario(
    system: OutletSystem,
    load: BackgroundLoad,
    inferQueue: Queue,
    branchQueue: Queue,
    scenario: { name: string; backgroundLoad: number },
  ): Promise<ScenarioReport> {
    const o = this.options;
    const m = this.pkg.manifest;
    const exitCount = m.exits.length;
    const url = this.url(system);
    await load.stop();
    if (scenario.backgroundLoad > 0) await load.start(scenario.backgroundLoad);
    // Let the node's smoothed CPU reading settle on the new load, and measure the load itself.
    const measuredLoad = await measureUtilization(2_000);
    o.log(`scenario ${scenario.name}: background load ${Math.round(scenario.backgroundLoad * 100)} %, measured ${Math.round(measuredLoad * 100)} %`);

    for (const plan of ['full', 'serial', 'parallel']) {
      const w = this.bodies(o.warmup, plan);
      await closedLoop(url, w.bodies, w.labels, 1);
    }

    pinThisProcess(o.supportCpus);
    // The oracle: the best fixed plan, measured on the same requests.
    const plans = allPlans(earlyExitCount(m)).map((p) => p.join(','));
    const oracleLabels = this.bodies(o.oracleRequests, 'full').labels;
    const oracleRuns = await interleavedLoop(url, plans.map((p) => this.bodies(o.oracleRequests, p).bodies), oracleLabels);
    const searched = plans.map((plan, k) => ({ plan, meanMs: latencyStats(oracleRuns[k].samples.map((s) => s.latencyMs)).meanMs }));
    searched.sort((a, b) => a.meanMs - b.meanMs);
    const oraclePlan = searched[0].plan;
    o.log(`  oracle search over ${searched.length} plans: best ${oraclePlan} (${searched[0].meanMs.toFixed(2)} ms), worst ${searched[searched.length - 1].plan} (${searched[searched.length - 1].meanMs.toFixed(2)} ms)`);

    // Concurrency 1: every strategy on each request, in a shuffled order (interleaved); then the
    // closed loops at higher concurrency (throughput) and the open loop, strategy by strategy.
    const planParams = STRATEGIES.map((st) => (st === 'oracle' ? oraclePlan : st));
    const sets = planParams.map((p) => this.bodies(o.requests, p));
    const labels = sets[0].labels;
    const c1Runs = await interleavedLoop(url, sets.map((x) => x.bodies), labels);
    const c1Samples = c1Runs.flatMap((r) => r.samples);
    const trunkEp = mostCommon(c1Samples.reduce<Record<string, number>>((a, x) => ((a[x.trunkEp ?? ''] = (a[x.trunkEp ?? ''] ?? 0) + 1), a), {})) || (o.trunkEp === 'auto' ? 'cpu' : o.trunkEp);
    o.log(`  c=1 interleaved: ${c1Samples.length} answers (trunk on ${trunkEp})`);
    const openRate = (o.openRateFactor * 1000) / latencyStats(c1Runs[STRATEGIES.indexOf('full')].samples.map((s) => s.latencyMs)).meanMs;
    const laterRuns: { pattern: string; run: RunResult }[][] = [];
    // Closed loops at c > 1: strategies take turns in blocks (shuffled per block), so drift over
    // the minutes of a run does not fall on one strategy's throughput.
    const closed = new Map<number, RunResult[]>();
    for (const c of o.concurrencies.filter((c) => c !== 1)) closed.set(c, await interleavedClosedLoops(url, sets.map((x) => x.bodies), labels, c));
    for (let k = 0; k < STRATEGIES.length; k++) {
      const runs: { pattern: string; run: RunResult }[] = [...closed].map(([c, perStrategy]) => ({ pattern: `closed c=${c}`, run: perStrategy[k] }));
      const n = Math.min(o.openRequests ?? o.requests, o.requests);
      runs.push({ pattern: `open ${openRate.toFixed(1)}/s`, run: await openLoop(url, sets[k].bodies.slice(0, n), labels.slice(0, n), openRate) });
      laterRuns.push(runs);
    }
    o.log(`  closed loops at c=${o.concurrencies.filter((c) => c !== 1).join(',')} and the open loop done`);

    // The trunk's own record of every task (its job's telemetry log line): wasted segments, abort reactions.
    const taskIds = [...c1Samples, ...laterRuns.flat().flatMap((r) => r.run.samples)].map((s) => s.taskId);
    const telemetry = await this.telemetry(inferQueue, taskIds);
    const runsByStrategy: RunSummary[][] = STRATEGIES.map((_, k) => [
      summarize('closed c=1', c1Runs[k], exitCount, telemetry),
      ...laterRuns[k].map((r) => summarize(r.pattern, r.run, exitCount, telemetry)),
    ]);

    // The same requests without queues or processes, with the plan the system used (auto: its
    // most common), on the cores the trunk and branch workers had, with their thread counts;
    // interleaved likewise. Plus serial with inline heads as separate calls (not fused).
    const inProcess = await this.inProcessRunner(trunkEp as ExecutionProvider);
    pinThisProcess(unionCpus(o.trunkCpus, o.branchCpus));
    const directPlans = STRATEGIES.map((st, k) =>
      parsePlan(st === 'auto' ? mostCommon(runsByStrategy[k][0].plans) : planParams[k], earlyExitCount(m)),
    );
    const serialPlan = parsePlan('serial', earlyExitCount(m));
    const variants = [...directPlans.map((plan) => ({ plan, separateHeads: false })), { plan: serialPlan, separateHeads: true }];
    const direct: Sample[][] = variants.map(() => []);
    for (let i = 0; i < o.requests; i++) {
      for (const k of variantOrder(variants.length, i)) direct[k].push(await inProcess.run(this.requests[i], variants[k].plan, { separateHeads: variants[k].separateHeads }));
    }
    pinThisProcess(o.supportCpus);
    const inProcessSummary = (k: number) => summarize('in-process c=1', { samples: direct[k], wallMs: direct[k].reduce((a, s) => a + s.latencyMs, 0), errors: [] }, exitCount);

    const strategies: StrategyReport[] = STRATEGIES.map((strategy, k) => {
      const inProc = inProcessSummary(k);
      const c1 = runsByStrategy[k][0];
      o.log(`  ${strategy.padEnd(8)} c=1 mean ${c1.latency.meanMs.toFixed(2)} ms, in-process ${inProc.latency.meanMs.toFixed(2)} ms`);
      return {
        strategy,
        runs: runsByStrategy[k],
        inProcess: inProc,
        overheadP50Ms: c1.latency.p50Ms - inProc.latency.p50Ms,
        latenciesC1Ms: c1Runs[k].samples.map((s) => s.latencyMs),
      };
    });
    const serialSeparate = inProcessSummary(variants.length - 1);
    o.log(`  serial-separate in-process mean ${serialSeparate.latency.meanMs.toFixed(2)} ms`);
    // What HTTP and JSON alone cost for these bodies, with this client, on the support cores.
    const httpFloorP50Ms = await bareHttpFloorP50(sets[0].bodies.slice(0, 50));

    const abort = [...telemetry.values()].map((t) => t.abortReactionMs).filter((v): v is number => typeof v === 'number');
    const handoff = await this.handoffs(branchQueue);
    await branchQueue.clean(0, 100_000, 'completed');
    await load.stop();
    const delivery = (worker: string) => {
      const v = c1Samples.filter((x) => x.exitWorker === worker && typeof x.deliveryMs === 'number').map((x) => x.deliveryMs!);
      return v.length ? latencyStats(v) : undefined;
    };
    const autoUtil = median(c1Runs[STRATEGIES.indexOf('auto')].samples.map((x) => x.cpuUtil).filter((v): v is number => typeof v === 'number'));
    return {
      name: scenario.name,
      backgroundLoad: scenario.backgroundLoad,
      measuredLoad,
      oracle: { plan: oraclePlan, searched },
      openRatePerS: openRate,
      strategies,
      serialSeparate,
      httpFloorP50Ms,
      abortReactionMs: abort.length ? latencyStats(abort) : undefined,
      handoffMs: handoff.length ? latencyStats(handoff) : undefined,
      deliveryBranchMs: delivery('branch'),
      deliveryTrunkMs: delivery('trunk'),
      trunkEp,
      predictions: this.predictions(trunkEp, Number.isFinite(autoUtil) ? autoUtil : measuredLoad, oraclePlan),
    };
  }

  /**
   * The planner's predictions from the plan table the trunk used (plans.json, or plans-<ep>.json
   * for an accelerator trunk), at the row for `cpuUtil`: presets' expected latency and tasks/s,
   * auto's (its latency plan alone, its backlog plan under load) and the oracle's when it is one of those plans.
   */
  private predictions(trunkEp: string, cpuUtil: number, oraclePlan: string): PlanPredictions | undefined {
    const file = planTableFile(trunkEp);
    const table = readPackageJson<PlanTable>(this.pkg, file);
    if (!table?.rows?.length) return undefined;
    const row = planForUtilization(table, cpuUtil);
    const latencyMs: PlanPredictions['latencyMs'] = { auto: row.expected_ms };
    const tasksPerS: PlanPredictions['tasksPerS'] = {};
    const at = row.backlog_tasks_per_s ?? row.tasks_per_s;
    if (at !== undefined) tasksPerS.auto = at;
    for (const preset of ['full', 'serial', 'parallel'] as const) {
      if (row.presets_ms) latencyMs[preset] = row.presets_ms[preset];
      if (row.presets_tasks_per_s) tasksPerS[preset] = row.presets_tasks_per_s[preset];
    }
    // The oracle is a fixed plan: predicted only when the table names it (a preset, or the row's plans).
    const k = earlyExitCount(this.pkg.manifest);
    const same = (a: string, b: Placement[]) => a === formatPlan(b);
    for (const preset of ['full', 'serial', 'parallel'] as const) {
      if (same(oraclePlan, parsePlan(preset, k))) {
        if (latencyMs[preset] !== undefined) latencyMs.oracle = latencyMs[preset];
        if (tasksPerS[preset] !== undefined) tasksPerS.oracle = tasksPerS[preset];
      }
    }
    if (latencyMs.oracle === undefined && same(oraclePlan, row.plan)) {
      latencyMs.oracle = row.expected_ms;
      if (row.tasks_per_s !== undefined) tasksPerS.oracle = row.tasks_per_s;
    }
    if (latencyMs.oracle === undefined && row.backlog_plan && same(oraclePlan, row.backlog_plan)) {
      if (row.backlog_expected_ms !== undefined) latencyMs.oracle = row.backlog_expected_ms;
      if (row.backlog_tasks_per_s !== undefined) tasksPerS.oracle = row.backlog_tasks_per_s;
    }
    return {
      file,
      cpuUtil,
      row: {
        cpu_util_max: row.cpu_util_max,
        cpu_util: row.cpu_util,
        plan: formatPlan(row.plan),
        ...(row.backlog_plan ? { backlog_plan: formatPlan(row.backlog_plan) } : {}),
      },
      latencyMs,
      tasksPerS,
    };
  }

  /** The trunk's own record of each task: the last telemetry line of its job's log. */
  private async telemetry(queue: Queue, taskIds: string[]): Promise<Map<string, TrunkTelemetry>> {
    const out = new Map<string, TrunkTelemetry>();
    const ids = [...new Set(taskIds)];
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const { logs } = await queue.getJobLogs(id);
          for (let j = logs.length - 1; j >= 0; j--) {
            try {
              const t = JSON.parse(logs[j]) as TrunkTelemetry;
              if (t && Array.isArray(t.segmentsRan)) {
                out.set(id, t);
                return;
              }
            } catch {
              // not a telemetry line
            }
          }
        }),
      );
    }
    return out;
  }

  /** The branch worker's record of each subjob: trunk hand-off to feature in hand. */
  private async handoffs(queue: Queue): Promise<number[]> {
    const jobs = await queue.getJobs(['completed'], 0, 100_000);
    return jobs.map((j) => (j.returnvalue as BranchResult)?.handoffMs).filter((v): v is number => typeof v === 'number');
  }
}
