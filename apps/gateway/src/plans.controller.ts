import { Controller, Get, Param, Query } from '@nestjs/common';
import { PlanTable, planForUtilization, planTableFile, readPackageJson } from '@outlet/model-package';
import { formatPlan } from '@outlet/contracts';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';
import { RequestError } from './inference-request';

/** The online decision, exposed: which plan `auto` picks for a CPU utilization. */
@Controller('v1/models')
export class PlansController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly nodes: NodeRegistry,
  ) {}

  @Get(':name/plan')
  async plan(@Param('name') name: string, @Query('cpu_util') cpuUtilText?: string, @Query('trunk_ep') trunkEpText?: string) {
    const pkg = this.catalog.get(name);
    const serving = (await this.nodes.liveNodes()).filter((n) => n.models.includes(name));
    const trunkEp = trunkEpText ?? serving[0]?.trunkEp ?? 'cpu';
    if (!/^[a-z0-9]+$/.test(trunkEp)) throw new RequestError(400, `trunk_ep must name an execution provider (cpu, webgpu, cuda), not '${trunkEp}'`);
    // Read on each call: `outlet plan --write` may have refreshed the table.
    const file = planTableFile(trunkEp);
    const table = readPackageJson<PlanTable>(pkg, file);
    if (!table) throw new RequestError(404, `model '${name}' has no plan table ${file}: run 'npm run outlet -- plan ${name} --trunk-ep ${trunkEp} --write'`);
    let cpuUtil: number;
    let source: string;
    if (cpuUtilText !== undefined) {
      cpuUtil = Number(cpuUtilText);
      if (cpuUtilText.trim() === '' || !(cpuUtil >= 0 && cpuUtil <= 1)) throw new RequestError(400, `cpu_util must be a number from 0 to 1, not '${cpuUtilText}'`);
      source = 'query';
    } else {
      const loads = serving.filter((n) => n.cpuUtil !== undefined).map((n) => n.cpuUtil!);
      cpuUtil = loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : 0;
      source = loads.length ? `mean of ${loads.length} live node(s)` : 'no live node: 0';
    }
    const row = planForUtilization(table, cpuUtil);
    return {
      model: name,
      trunk_ep: trunkEp,
      cpu_util: cpuUtil,
      cpu_util_source: source,
      plan: formatPlan(row.plan),
      expected_ms: row.expected_ms,
      row,
      table: table.rows,
    };
  }
}
