import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BranchWorkerBeat, HEARTBEAT_INTERVAL_MS, HardwareFingerprint, LiveThresholds, Placement, PlanRowSummary, describeFingerprint, formatPlan, parsePlan } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { CpuMonitor, hardwareFingerprint } from '@outlet/edge-node';
import { ModelThread, onnxruntimeVersion } from '@outlet/inference';
import { ModelPackage, PlanChoice, PlanTable, earlyExitCount, exitAfterSegment, planFor, planTableFile, readPackageJson } from '@outlet/model-package';
import { CALIBRATION_FILE, CalibrationFile, ObservedScales, StageTimeDrift, StageTimesMs, TRANSFER_FILE, inlineHeadMs, planModel, scaleStageTimes, transferModelFrom } from '@outlet/planner';
import { stageTimes } from '@outlet/predictor';
import { TrunkTransport } from './trunk-transport.service';
import { TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** How often the trunk looks at its queues' backlog (tasks waiting behind the one it runs). */
const BACKLOG_SAMPLE_MS = 100;
/** Observed stage times: a window of the last 50 calls per segment, judged from 20 on, every 10th call. */
const DRIFT_WINDOW = 50;
const DRIFT_MIN_SAMPLES = 20;
const DRIFT_CHECK_EVERY = 10;

/**
 * The fingerprint this node's own profiles and plans are measured on and stored under: its CPU,
 * the trunk's resolved provider and threads, and the branch workers' threads as configured.
 */
export function nodeFingerprint(engine: ModelThread, settings: TrunkSettings): HardwareFingerprint {
  return hardwareFingerprint({ trunkEp: engine.ep, trunkThreads: settings.threads, branchThreads: settings.branchThreads, onnxruntime: onnxruntimeVersion() });
}

export interface AutoChoice {
  plan: Placement[];
  cpuUtil: number;
  /** `throughput` while tasks wait in the model's queue, else `latency`. */
  objective: PlanChoice['objective'];
}

/**
 * Online half of the planner: the plan for the node's current CPU load and the trunk's backlog,
 * from the package's table. Without a backlog the table's latency plan; with tasks waiting, its
 * throughput plan (no speculative trunk work).
 */
@Injectable()
export class PlanSelector implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PlanSelector.name);
  /** The node's own branch workers run the heads a plan places there: their CPU time is not background load. */
  private branchPids: number[] = [];
  private readonly cpu = new CpuMonitor({ excludeSelf: true, excludePids: () => this.branchPids }).start();
  /** Per model: the choice for a utilization and backlog, from its table or the fallback. */
  private readonly planners = new Map<string, (cpuUtil: number, backlog: boolean) => PlanChoice>();
  /** Per model: the table its planner reads (none while it falls back to parallel). */
  private readonly tables = new Map<string, PlanTable>();
  private readonly waiting = new Map<string, number>();
  private sampler?: NodeJS.Timeout;
  private branchLookup?: NodeJS.Timeout;
  /** Per model: the thresholds version its plans were last made for, and those thresholds. */
  private readonly plannedFor = new Map<string, string>();
  private readonly live = new Map<string, LiveThresholds>();
  /** Per model: the node's own stage times (profile or predictor), where it has them; else the package's profile.json. */
  private readonly baseTimes = new Map<string, (u: number) => StageTimesMs>();
  /** Per model: how much slower (or faster) than its stage times the node has seen each segment and branch head run. */
  private readonly scales = new Map<string, ObservedScales>();
  private readonly segmentDrift = new Map<string, StageTimeDrift>();
  private readonly headDrift = new Map<string, StageTimeDrift>();
  /** Per branch worker pid: the beat whose head times were taken last. */
  private readonly lastBeatAt = new Map<number, number>();
  private readonly observed = new Map<string, number>();
  private readonly assumedCache = new Map<string, Map<number, StageTimesMs | undefined>>();
  private readonly replanned = new Map<string, { at: number; reason: string }>();
  /** This node's fingerprint (its status, its own profiles and plan tables name it); /proc/cpuinfo read once. */
  readonly fingerprint: HardwareFingerprint;

  constructor(
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    private readonly transport: TrunkTransport,
  ) {
    this.fingerprint = nodeFingerprint(engine, settings);
    for (const [name, pkg] of packages) {
      const file = planTableFile(engine.ep);
      const table = readPackageJson<PlanTable>(pkg, file);
      if (!table) {
        this.logger.warn(`${name} has no ${file}: plan=auto falls back to parallel (run 'npm run outlet -- plan ${name} --trunk-ep ${engine.ep} --write')`);
      }
      if (table) this.checkHardware(name, file, table);
      const fallback: PlanChoice = { plan: parsePlan('parallel', earlyExitCount(pkg.manifest)), expected_ms: NaN, objective: 'latency' };
      this.planners.set(name, table ? (u, backlog) => planFor(table, u, backlog) : () => fallback);
      if (table) this.tables.set(name, table);
    }
  }

  /** A plan table measured on other hardware than this node's still serves, with a warning that says so. */
  private checkHardware(model: string, file: string, table: PlanTable): void {
    const measured = table.hardware;
    const here = this.fingerprint;
    if (!measured) {
      this.logger.warn(`${model}: ${file} does not say which hardware it was measured on; this node: ${describeFingerprint(here)}`);
    } else if (measured.id !== here.id) {
      this.logger.warn(`${model}: ${file} was measured on other hardware (${describeFingerprint(measured)}) than this node (${describeFingerprint(here)}): its plans may not be this node's best`);
    }
  }

  onModuleInit() {
    // Sampled off the task's path: a Redis round trip per task would cost every task latency.
    const sample = () => {
      for (const model of this.planners.keys()) {
        this.transport.waitingTasks(model).then(
          (n) => this.waiting.set(model, n),
          () => undefined,
        );
      }
    };
    this.sampler = setInterval(sample, BACKLOG_SAMPLE_MS).unref();
    const lookUp = () =>
      this.transport.branchWorkers().then(
        (workers) => {
          this.branchPids = workers.map((w) => w.pid);
          for (const w of workers) this.observeBeat(w.pid, w.beat);
        },
        () => undefined,
      );
    void lookUp();
    this.branchLookup = setInterval(lookUp, HEARTBEAT_INTERVAL_MS).unref();
  }

  /**
   * Plans follow the live thresholds: when they change (or the tuner measures new exit
   * probabilities), the model's table is made again from its stage times and transfer model, with
   * the exit probabilities of the audit window (or, before any are measured, the calibration's
   * samples at the live thresholds). Without stage times the shipped table stays.
   */
  followThresholds(model: string, live: LiveThresholds): void {
    const key = `${live.version}:${live.exitProbabilities?.map((p) => p.toFixed(3)).join(',') ?? ''}`;
    if (this.plannedFor.get(model) === key) return;
    const first = !this.plannedFor.has(model);
    this.plannedFor.set(model, key);
    this.live.set(model, live);
    // Version 1 without measured probabilities is what the shipped table was made for.
    if (first && live.version === 1 && !live.exitProbabilities && !this.baseTimes.has(model)) return;
    this.replan(model, `thresholds v${live.version}${live.exitProbabilities ? ` (exit probabilities ${live.exitProbabilities.map((p) => p.toFixed(2)).join(', ')})` : ''}`);
  }

  /**
   * The node's own stage times for a model (its own profile, or the predictor's while it has
   * none): its plans are made from them from now on, and what it observes is judged against them.
   */
  useStageTimes(model: string, times: (cpuUtil: number) => StageTimesMs, why: string): boolean {
    this.baseTimes.set(model, times);
    this.scales.delete(model);
    this.segmentDrift.get(model)?.clear();
    this.headDrift.get(model)?.clear();
    return this.replan(model, why);
  }

  /**
   * One trunk call as it ran (a segment, fused with its head `withExit`) against what the plans
   * assumed at the present CPU load. When a segment's median over the window leaves
   * [1/replanRatio, replanRatio] of it, the plans are made again with that segment scaled by
   * what was observed, and the node says why.
   */
  observeSegment(model: string, segment: number, withExit: boolean, ranMs: number): void {
    const pkg = this.packages.get(model);
    const times = pkg && this.assumedTimes(model, this.cpu.utilization());
    if (!pkg || !times) return;
    const exit = withExit ? exitAfterSegment(pkg.manifest, segment) : undefined;
    const expected = times.segments[segment] + (exit === undefined ? 0 : inlineHeadMs(times, exit));
    const drift = this.driftOf(this.segmentDrift, model);
    drift.record(segment, ranMs, expected);
    const seen = (this.observed.get(model) ?? 0) + 1;
    this.observed.set(model, seen);
    if (seen % DRIFT_CHECK_EVERY === 0) this.judge(model, drift, 'segments', 'segment');
  }

  private driftOf(drifts: Map<string, StageTimeDrift>, model: string): StageTimeDrift {
    let drift = drifts.get(model);
    if (!drift) drifts.set(model, (drift = new StageTimeDrift(DRIFT_WINDOW, DRIFT_MIN_SAMPLES)));
    return drift;
  }

  /**
   * Where a stage's median over the window left [1/replanRatio, replanRatio] of what the plans
   * assumed: scale it by what was observed, make the plans again, and say why.
   */
  private judge(model: string, drift: StageTimeDrift, kind: keyof ObservedScales, what: string): void {
    const beyond = drift.beyond(this.settings.replanRatio);
    if (beyond.length === 0) return;
    const pkg = this.packages.get(model)!;
    const scales = { ...this.scales.get(model) };
    const list = [...(scales[kind] ?? (kind === 'segments' ? pkg.manifest.segments : pkg.manifest.exits).map(() => 1))];
    for (const d of beyond) list[d.stage] *= d.ratio;
    scales[kind] = list;
    this.scales.set(model, scales);
    drift.clear();
    const u = this.cpu.utilization();
    const reason = `observed stage times at cpu_util ${u.toFixed(2)}: ${beyond.map((d) => `${what} ${d.stage} ran ${d.ratio.toFixed(2)}× what its plans assumed (median of ${d.samples})`).join('; ')}, beyond the bound ${this.settings.replanRatio}× (OUTLET_REPLAN_RATIO)`;
    if (this.replan(model, reason)) this.replanned.set(model, { at: Date.now(), reason });
  }

  /** The head times a branch worker's beat carries (each beat once): judged like segments, against the branch heads' stage times. */
  private observeBeat(pid: number, beat: BranchWorkerBeat): void {
    if (this.lastBeatAt.get(pid) === beat.at) return;
    this.lastBeatAt.set(pid, beat.at);
    for (const [model, byExit] of Object.entries(beat.headMs ?? {})) {
      const times = this.packages.has(model) ? this.assumedTimes(model, this.cpu.utilization()) : undefined;
      if (!times) continue;
      const drift = this.driftOf(this.headDrift, model);
      for (const [exit, samples] of Object.entries(byExit)) {
        for (const ms of samples) drift.record(Number(exit), ms, times.branchHeads[Number(exit)]);
      }
      this.judge(model, drift, 'branchHeads', 'head on the branch worker');
    }
  }

  /** When the model's plans were last made again from observed stage times, and why. */
  lastReplan(model: string): { at: number; reason: string } | undefined {
    return this.replanned.get(model);
  }

  /** The plan `auto` picks for a model at no load and no backlog (as `trunk,branch,…`). */
  planAtIdle(model: string): string | undefined {
    const planner = this.planners.get(model);
    return planner ? formatPlan(planner(0, false).plan) : undefined;
  }

  /** The rows of the model's current plan table: up to which CPU load each plan holds, alone and with a backlog. */
  planRows(model: string): PlanRowSummary[] | undefined {
    return this.tables.get(model)?.rows.map((r) => ({ cpuUtilMax: r.cpu_util_max, plan: formatPlan(r.plan), backlogPlan: formatPlan(r.backlog_plan ?? r.plan) }));
  }

  /** The stage times the model's plans assume at load u (cached per 0.05 of load); undefined where it has none. */
  private assumedTimes(model: string, u: number): StageTimesMs | undefined {
    let byLoad = this.assumedCache.get(model);
    if (!byLoad) this.assumedCache.set(model, (byLoad = new Map()));
    const bucket = Math.round(u * 20) / 20;
    if (!byLoad.has(bucket)) {
      try {
        byLoad.set(bucket, this.timesFor(model)(bucket));
      } catch {
        byLoad.set(bucket, undefined); // neither profiled nor predicted: nothing to compare with
      }
    }
    return byLoad.get(bucket);
  }

  private timesFor(model: string): (u: number) => StageTimesMs {
    const pkg = this.packages.get(model)!;
    const base = this.baseTimes.get(model) ?? ((u: number) => stageTimes(pkg, this.engine.ep, u));
    const scales = this.scales.get(model);
    if (!scales) return base;
    const exitsAfter = pkg.manifest.exits.map((e) => e.after_segment);
    return (u) => scaleStageTimes(base(u), scales, exitsAfter);
  }

  /** Make the model's plan table again from its stage times, live thresholds and transfer model; false (and the old table kept) when it cannot. */
  private replan(model: string, why: string): boolean {
    const pkg = this.packages.get(model);
    if (!pkg) return false;
    const live = this.live.get(model);
    try {
      const transfer = readPackageJson<unknown>(pkg, TRANSFER_FILE);
      if (!transfer) throw new Error(`no ${TRANSFER_FILE}`);
      const calibration = live?.exitProbabilities ? undefined : readPackageJson<CalibrationFile>(pkg, CALIBRATION_FILE);
      const { table } = planModel({
        manifest: pkg.manifest,
        stageTimes: this.timesFor(model),
        transfer: transferModelFrom(transfer),
        calibration,
        exitProbabilities: live?.exitProbabilities,
        thresholds: live?.thresholds,
      });
      table.hardware = this.fingerprint;
      const before = this.planAtIdle(model);
      this.planners.set(model, (u, backlog) => planFor(table, u, backlog));
      this.tables.set(model, table);
      this.assumedCache.delete(model);
      this.logger.log(`${model}: plans made again (${why}): at idle ${before ?? 'none'} → ${this.planAtIdle(model)}`);
      return true;
    } catch (err) {
      this.logger.warn(`${model}: plans kept (${why}): ${(err as Error).message}`);
      return false;
    }
  }

  /** Whether tasks wait in any of this trunk's queues (sampled every BACKLOG_SAMPLE_MS). */
  tasksWaiting(): boolean {
    for (const n of this.waiting.values()) if (n > 0) return true;
    return false;
  }

  cpuUtilization(): number {
    return this.cpu.utilization();
  }

  choose(model: string): AutoChoice {
    const cpuUtil = this.cpu.utilization();
    const planner = this.planners.get(model);
    if (!planner) throw new Error(`no plan table loaded for model '${model}'`);
    const { plan, objective } = planner(cpuUtil, (this.waiting.get(model) ?? 0) > 0);
    return { plan, cpuUtil, objective };
  }

  onApplicationShutdown() {
    if (this.sampler) clearInterval(this.sampler);
    if (this.branchLookup) clearInterval(this.branchLookup);
    this.cpu.stop();
  }
}
