import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HEARTBEAT_INTERVAL_MS, LiveThresholds, Placement, describeFingerprint, parsePlan } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { CpuMonitor, hardwareFingerprint } from '@outlet/edge-node';
import { ModelThread, onnxruntimeVersion } from '@outlet/inference';
import { ModelPackage, PlanChoice, PlanTable, earlyExitCount, planFor, planTableFile, readPackageJson } from '@outlet/model-package';
import { CALIBRATION_FILE, CalibrationFile, TRANSFER_FILE, planModel, transferModelFrom } from '@outlet/planner';
import { stageTimes } from '@outlet/predictor';
import { TrunkTransport } from './trunk-transport.service';
import { TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** How often the trunk looks at its queues' backlog (tasks waiting behind the one it runs). */
const BACKLOG_SAMPLE_MS = 100;

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
  private readonly waiting = new Map<string, number>();
  private sampler?: NodeJS.Timeout;
  private branchLookup?: NodeJS.Timeout;
  /** Per model: the thresholds version its plans were last made for. */
  private readonly plannedFor = new Map<string, string>();

  constructor(
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    private readonly transport: TrunkTransport,
  ) {
    for (const [name, pkg] of packages) {
      const file = planTableFile(engine.ep);
      const table = readPackageJson<PlanTable>(pkg, file);
      if (!table) {
        this.logger.warn(`${name} has no ${file}: plan=auto falls back to parallel (run 'npm run outlet -- plan ${name} --trunk-ep ${engine.ep} --write')`);
      }
      if (table) this.checkHardware(name, file, table);
      const fallback: PlanChoice = { plan: parsePlan('parallel', earlyExitCount(pkg.manifest)), expected_ms: NaN, objective: 'latency' };
      this.planners.set(name, table ? (u, backlog) => planFor(table, u, backlog) : () => fallback);
    }
  }

  /** A plan table measured on other hardware than this node's still serves, with a warning that says so. */
  private checkHardware(model: string, file: string, table: PlanTable): void {
    const measured = table.hardware;
    const here = hardwareFingerprint({ trunkEp: this.engine.ep, trunkThreads: this.settings.threads, branchThreads: measured?.branchThreads, onnxruntime: onnxruntimeVersion() });
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
    const lookUp = () => this.transport.branchWorkerPids().then((pids) => (this.branchPids = pids), () => undefined);
    void lookUp();
    this.branchLookup = setInterval(lookUp, HEARTBEAT_INTERVAL_MS).unref();
  }

  /**
   * Plans follow the live thresholds: when they change (or the tuner measures new exit
   * probabilities), the model's table is made again from its profiled stage times and transfer
   * model, with the exit probabilities of the audit window (or, before any are measured, the
   * calibration's samples at the live thresholds). Without a profile the shipped table stays.
   */
  followThresholds(model: string, live: LiveThresholds): void {
    const key = `${live.version}:${live.exitProbabilities?.map((p) => p.toFixed(3)).join(',') ?? ''}`;
    if (this.plannedFor.get(model) === key) return;
    const first = !this.plannedFor.has(model);
    this.plannedFor.set(model, key);
    // Version 1 without measured probabilities is what the shipped table was made for.
    if (first && live.version === 1 && !live.exitProbabilities) return;
    const pkg = this.packages.get(model);
    if (!pkg) return;
    try {
      const ep = this.engine.ep;
      const transfer = readPackageJson<unknown>(pkg, TRANSFER_FILE);
      if (!transfer) throw new Error(`no ${TRANSFER_FILE}`);
      const calibration = live.exitProbabilities ? undefined : readPackageJson<CalibrationFile>(pkg, CALIBRATION_FILE);
      const times = (u: number) => stageTimes(pkg, ep, u);
      const { table } = planModel({ manifest: pkg.manifest, stageTimes: times, transfer: transferModelFrom(transfer), calibration, exitProbabilities: live.exitProbabilities, thresholds: live.thresholds });
      this.planners.set(model, (u, backlog) => planFor(table, u, backlog));
      const idle = table.rows[0];
      this.logger.log(`${model}: plans made again for thresholds v${live.version}${live.exitProbabilities ? ` (exit probabilities ${live.exitProbabilities.map((p) => p.toFixed(2)).join(', ')})` : ''}: ${idle.plan.join(',')} at cpu_util ${idle.cpu_util}`);
    } catch (err) {
      this.logger.warn(`${model}: plans kept as shipped for thresholds v${live.version}: ${(err as Error).message}`);
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
