import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Placement, parsePlan } from '@outlet/contracts';
import { CpuMonitor } from '@outlet/edge-node';
import { ModelThread } from '@outlet/inference';
import { ModelPackage, PlanTable, earlyExitCount, planForUtilization, planTableFile, readPackageJson } from '@outlet/model-package';
import { TRUNK_ENGINE, TRUNK_PACKAGES } from './tokens';

/** Online half of the planner: the plan for the node's current CPU load, from the package's table. */
@Injectable()
export class PlanSelector implements OnApplicationShutdown {
  private readonly logger = new Logger(PlanSelector.name);
  private readonly cpu = new CpuMonitor({ excludeSelf: true }).start();
  /** Per model: the plan for a utilization, from its table or the fallback. */
  private readonly planners = new Map<string, (cpuUtil: number) => Placement[]>();

  constructor(@Inject(TRUNK_PACKAGES) packages: Map<string, ModelPackage>, @Inject(TRUNK_ENGINE) engine: ModelThread) {
    for (const [name, pkg] of packages) {
      const file = planTableFile(engine.ep);
      const table = readPackageJson<PlanTable>(pkg, file);
      if (!table) {
        this.logger.warn(`${name} has no ${file}: plan=auto falls back to parallel (run 'npm run outlet -- plan ${name} --trunk-ep ${engine.ep} --write')`);
      }
      const fallback = parsePlan('parallel', earlyExitCount(pkg.manifest));
      this.planners.set(name, table ? (u) => planForUtilization(table, u).plan : () => fallback);
    }
  }

  cpuUtilization(): number {
    return this.cpu.utilization();
  }

  choose(model: string): { plan: Placement[]; cpuUtil: number } {
    const cpuUtil = this.cpu.utilization();
    const planner = this.planners.get(model);
    if (!planner) throw new Error(`no plan table loaded for model '${model}'`);
    return { plan: planner(cpuUtil), cpuUtil };
  }

  onApplicationShutdown() {
    this.cpu.stop();
  }
}
