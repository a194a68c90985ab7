import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HEARTBEAT_INTERVAL_MS, Placement, parsePlan } from '@outlet/contracts';
import { CpuMonitor } from '@outlet/edge-node';
import { ModelThread } from '@outlet/inference';
import { ModelPackage, PlanChoice, PlanTable, earlyExitCount, planFor, planTableFile, readPackageJson } from '@outlet/model-package';
import { TrunkTransport } from './trunk-transport.service';
import { TRUNK_ENGINE, TRUNK_PACKAGES } from './tokens';

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

  constructor(
    @Inject(TRUNK_PACKAGES) packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) engine: ModelThread,
    private readonly transport: TrunkTransport,
  ) {
    for (const [name, pkg] of packages) {
      const file = planTableFile(engine.ep);
      const table = readPackageJson<PlanTable>(pkg, file);
      if (!table) {
        this.logger.warn(`${name} has no ${file}: plan=auto falls back to parallel (run 'npm run outlet -- plan ${name} --trunk-ep ${engine.ep} --write')`);
      }
      const fallback: PlanChoice = { plan: parsePlan('parallel', earlyExitCount(pkg.manifest)), expected_ms: NaN, objective: 'latency' };
      this.planners.set(name, table ? (u, backlog) => planFor(table, u, backlog) : () => fallback);
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
