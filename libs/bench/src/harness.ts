import { execFileSync } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { bullConnection } from '@outlet/config';
import { BranchResult, Placement, TrunkTelemetry, branchQueueName, inferQueueName, parsePlan } from '@outlet/contracts';
import { ExecutionProvider } from '@outlet/inference';
import { ModelPackage, earlyExitCount, loadModelPackage } from '@outlet/model-package';
import { measureUtilization } from '@outlet/profiler';
import { ManagedProcess, OutletSystem, appEntry } from '@outlet/supervisor';
import { closedLoop, encodeBodies, interleavedLoop, openLoop, RunResult, Sample, variantOrder } from './http-driver';
import { InProcessRunner } from './in-process';
import { heldOutRequests, LabelledRequest } from './request-set';
import { LatencyStats, latencyStats } from './stats';

export const STRATEGIES = ['full', 'serial', 'parallel', 'auto', 'oracle'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface BenchOptions {
  model: string;
  modelsDir: string;
  /** Requests per strategy and load pattern. */
  requests: number;
  /** Requests per candidate plan when searching for the oracle. */
  oracleRequests: number;
  concurrencies: number[];
  /** Open-loop rate as a fraction of the full network's closed-loop throughput at concurrency 1. */
  openRateFactor: number;
  scenarios: { name: string; backgroundLoad: number }[];
  trunkEp: ExecutionProvider | 'auto';
  trunkCpus?: string;
  branchCpus?: string;
  /** Cores of the gateway, Redis and this process's HTTP client: off the trunk's core. */
  supportCpus?: string;
  threads: number;
  warmup: number;
  log: (line: string) => void;
}

/** Summary of one strategy under one load pattern. */
export interface RunSummary {
  pattern: string;
  latency: LatencyStats;
  throughputPerS: number;
  accuracy: number;
  exits: number[];
  wastedSegmentsMean: number;
  plans: Record<string, number>;
  errors: number;
}

export interface StrategyReport {
  strategy: Strategy;
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
  abortReactionMs?: LatencyStats;
  handoffMs?: LatencyStats;
}

function summarize(pattern: string, run: RunResult, exitCount: number): RunSummary {
  const s = run.samples;
  const exits = new Array(exitCount).fill(0);
  const plans: Record<string, number> = {};
  for (const x of s) {
    exits[x.exitIndex]++;
    plans[x.plan] = (plans[x.plan] ?? 0) + 1;
  }
  return {
    pattern,
    latency: latencyStats(s.map((x) => x.latencyMs)),
    throughputPerS: (s.length / run.wallMs) * 1000,
    accuracy: s.filter((x) => x.correct).length / Math.max(1, s.length),
    exits,
    wastedSegmentsMean: s.reduce((a, x) => a + (x.wastedSegments ?? 0), 0) / Math.max(1, s.length),
    plans,
    errors: run.errors.length,
  };
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

export class BenchHarness {
  private readonly pkg: ModelPackage;
  private readonly requests: LabelledRequest[];

  constructor(private readonly options: BenchOptions) {
    this.pkg = loadModelPackage(join(options.modelsDir, options.model));
    this.requests = heldOutRequests(this.pkg.manifest, Math.max(options.requests, options.oracleRequests));
  }

  async run() {
    const o = this.options;
    const m = this.pkg.manifest;
    o.log(
      `starting Redis, gateway and one node (trunk on cores ${o.trunkCpus ?? 'any'}, branch on ${o.branchCpus ?? 'any'}, ` +
        `gateway, Redis and client on ${o.supportCpus ?? 'any'}, ${o.threads} thread(s) each, trunk ep ${o.trunkEp})`,
    );
    const system = await OutletSystem.start({
      quiet: true,
      gatewayCpus: o.supportCpus,
      redisCpus: o.supportCpus,
      env: { OUTLET_MODELS_DIR: o.modelsDir, OUTLET_JOB_RETENTION: '100000' },
      gatewayEnv: { OUTLET_DEFAULT_PLAN: 'auto', OUTLET_BODY_LIMIT: '4mb' },
      nodes: [
        {
          nodeId: 'bench-node',
          trunkCpus: o.trunkCpus,
          branchCpus: o.branchCpus,
          trunkEnv: { OUTLET_TRUNK_EP: o.trunkEp, OUTLET_TRUNK_THREADS: String(o.threads) },
          branchEnv: { OUTLET_BRANCH_THREADS: String(o.threads) },
        },
      ],
    });
    const load = new BackgroundLoad();
    const inferQueue = new Queue(inferQueueName(m.name), { connection: bullConnection(system.redisUrl) });
    const branchQueue = new Queue(branchQueueName('bench-node'), { connection: bullConnection(system.redisUrl) });
    const inProcess = await InProcessRunner.open(this.pkg, o.trunkEp === 'auto' ? 'cpu' : o.trunkEp, o.threads);
    try {
      const scenarios: ScenarioReport[] = [];
      for (const scenario of o.scenarios) {
        scenarios.push(await this.scenario(system, load, inferQueue, branchQueue, inProcess, scenario));
      }
      return { model: m.name, modelVersion: m.version, machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model }, options: { ...o, log: undefined }, scenarios };
    } finally {
      await load.stop();
      await inProcess.close();
      await inferQueue.close();
      await branchQueue.close();
      await system.stop();
    }
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
    inProcess: InProcessRunner,
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

    // Concurrency 1: every strategy on each request, in a shuffled order (interleaved); then the other load
    // patterns strategy by strategy.
    const planParams = STRATEGIES.map((st) => (st === 'oracle' ? oraclePlan : st));
    const sets = planParams.map((p) => this.bodies(o.requests, p));
    const labels = sets[0].labels;
    const c1Runs = await interleavedLoop(url, sets.map((x) => x.bodies), labels);
    const taskIds: string[] = c1Runs.flatMap((r) => r.samples.map((s) => s.taskId));
    const openRate = (o.openRateFactor * 1000) / latencyStats(c1Runs[STRATEGIES.indexOf('full')].samples.map((s) => s.latencyMs)).meanMs;
    const runsByStrategy: RunSummary[][] = [];
    for (let k = 0; k < STRATEGIES.length; k++) {
      const runs = [summarize('closed c=1', c1Runs[k], exitCount)];
      for (const c of o.concurrencies.filter((c) => c !== 1)) {
        const run = await closedLoop(url, sets[k].bodies, labels, c);
        runs.push(summarize(`closed c=${c}`, run, exitCount));
        run.samples.forEach((s) => taskIds.push(s.taskId));
      }
      runs.push(summarize(`open ${openRate.toFixed(1)}/s`, await openLoop(url, sets[k].bodies, labels, openRate), exitCount));
      runsByStrategy.push(runs);
    }

    // The same requests without queues or processes, with the plan the system used (auto: its
    // most common), on the cores the trunk and branch workers had; interleaved likewise.
    pinThisProcess(unionCpus(o.trunkCpus, o.branchCpus));
    const directPlans = STRATEGIES.map((st, k) =>
      parsePlan(st === 'auto' ? mostCommon(runsByStrategy[k][0].plans) : planParams[k], earlyExitCount(m)),
    );
    const direct: Sample[][] = STRATEGIES.map(() => []);
    for (let i = 0; i < o.requests; i++) {
      for (const k of variantOrder(STRATEGIES.length, i)) direct[k].push(await inProcess.run(this.requests[i], directPlans[k]));
    }
    pinThisProcess(o.supportCpus);

    const strategies: StrategyReport[] = STRATEGIES.map((strategy, k) => {
      const inProc = summarize('in-process c=1', { samples: direct[k], wallMs: direct[k].reduce((a, s) => a + s.latencyMs, 0), errors: [] }, exitCount);
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

    const abort = await this.abortReactions(inferQueue, taskIds);
    const handoff = await this.handoffs(branchQueue);
    await branchQueue.clean(0, 100_000, 'completed');
    await load.stop();
    return {
      name: scenario.name,
      backgroundLoad: scenario.backgroundLoad,
      measuredLoad,
      oracle: { plan: oraclePlan, searched },
      openRatePerS: openRate,
      strategies,
      abortReactionMs: abort.length ? latencyStats(abort) : undefined,
      handoffMs: handoff.length ? latencyStats(handoff) : undefined,
    };
  }

  /** The trunk's own record of each branch-answered task (its job's telemetry): stop time beyond the work in flight. */
  private async abortReactions(queue: Queue, taskIds: string[]): Promise<number[]> {
    const values: number[] = [];
    for (const id of taskIds) {
      const { logs } = await queue.getJobLogs(id);
      const t = logs.length ? (JSON.parse(logs[logs.length - 1]) as TrunkTelemetry) : undefined;
      if (t?.abortReactionMs !== undefined) values.push(t.abortReactionMs);
    }
    return values;
  }

  /** The branch worker's record of each subjob: trunk hand-off to feature in hand. */
  private async handoffs(queue: Queue): Promise<number[]> {
    const jobs = await queue.getJobs(['completed'], 0, 100_000);
    return jobs.map((j) => (j.returnvalue as BranchResult)?.handoffMs).filter((v): v is number => typeof v === 'number');
  }
}
