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
  private readonly tables = new Map<string, PlanTable | undefined>();
  private readonly earlyExits = new Map<string, number>();

  constructor(@Inject(TRUNK_MODELS) models: Map<string, MultiExitModel>) {
    for (const [name, model] of models) {
      const file = planTableFile(model.ep);
      const table = readPackageJson<PlanTable>(model.pkg, file);
      if (!table) {
        this.logger.warn(`${name} has no ${file}: plan=auto falls back to parallel (run 'npm run outlet -- plan ${name} --trunk-ep ${model.ep} --write')`);
      }
      this.tables.set(name, table);
      this.earlyExits.set(name, earlyExitCount(model.manifest));
    }
  }

  cpuUtilization(): number {
    return this.cpu.utilization();
  }

  choose(model: string): { plan: Placement[]; cpuUtil: number } {
    const cpuUtil = this.cpu.utilization();
    const table = this.tables.get(model);
    const plan = table ? planForUtilization(table, cpuUtil).plan : parsePlan('parallel', this.earlyExits.get(model) ?? 0);
    return { plan, cpuUtil };
  }

  onApplicationShutdown() {
    this.cpu.stop();
  }
}
