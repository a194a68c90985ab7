import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Placement, parsePlan } from '@outlet/contracts';
import { CpuMonitor } from '@outlet/edge-node';
import { MultiExitModel } from '@outlet/inference';
import { PlanTable, earlyExitCount, planForUtilization, planTableFile, readPackageJson } from '@outlet/model-package';
import { TRUNK_MODELS } from './tokens';

/** Online half of the planner: the plan for the node's current CPU load, from the package's table. */
@Injectable()
export class PlanSelector implements OnApplicationShutdown {
  private readonly logger = new Logger(PlanSelector.name);
  private readonly cpu = new CpuMonitor({ excludeSelf: true }).start();
  /** Per model: the plan for a utilization, from its table or the fallback. */
  private readonly planners = new Map<string, (cpuUtil: number) => Placement[]>();

  constructor(@Inject(TRUNK_MODELS) models: Map<string, MultiExitModel>) {
    for (const [name, model] of models) {
      const file = planTableFile(model.ep);
      const table = readPackageJson<PlanTable>(model.pkg, file);
      if (!table) {
        this.logger.warn(`${name} has no ${file}: plan=auto falls back to parallel (run 'npm run outlet -- plan ${name} --trunk-ep ${model.ep} --write')`);
      }
      const fallback = parsePlan('parallel', earlyExitCount(model.manifest));
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
