import { Controller, Get, Param, Query } from '@nestjs/common';
import { PlanTable, planForUtilization, planTableFile, readPackageJson } from '@outlet/model-package';
import { echoText, formatPlan } from '@outlet/contracts';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';
import { RequestError } from './inference-request';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiModelParams, schemaRef } from './openapi';

/** The online decision, exposed: which plan `auto` picks for a CPU utilization. */
@ApiTags('Plans')
@Controller('v1/models')
export class PlansController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly nodes: NodeRegistry,
  ) {}

  @Get(':name/plan')
  @ApiOperation({ summary: 'The plan `auto` picks', description: "From the model's plan table for the trunk's execution provider, at a CPU utilization." })
  @ApiModelParams()
  @ApiQuery({ name: 'cpu_util', required: false, description: 'CPU utilization from 0 to 1; absent: the mean of the live nodes serving the model.', schema: { type: 'number', minimum: 0, maximum: 1 } })
  @ApiQuery({ name: 'trunk_ep', required: false, description: "The trunk's execution provider (lower-case letters and digits); absent: the first live node's, else cpu.", schema: { type: 'string', pattern: '^[a-z0-9]+$', example: 'cpu' } })
  @ApiOkResponse({ schema: schemaRef('PlanDecision') })
  @ApiErrors({ 400: 'cpu_util or trunk_ep is malformed.', 404: 'Unknown model, or no plan table for that execution provider.' })
  async plan(@Param('name') name: string, @Query('cpu_util') cpuUtilText?: string, @Query('trunk_ep') trunkEpText?: string) {
    const pkg = this.catalog.get(name);
    const serving = (await this.nodes.liveNodes()).filter((n) => n.models.includes(name));
    const trunkEp = trunkEpText ?? serving[0]?.trunkEp ?? 'cpu';
    if (!/^[a-z0-9]+$/.test(trunkEp)) throw new RequestError(400, `trunk_ep must name an execution provider (cpu, webgpu, cuda), not '${echoText(trunkEp)}'`);
    // Read on each call: `outlet plan --write` may have refreshed the table.
    const file = planTableFile(trunkEp);
    const table = readPackageJson<PlanTable>(pkg, file);
    if (!table) throw new RequestError(404, `model '${name}' has no plan table ${file}: run 'npm run outlet -- plan ${name} --trunk-ep ${trunkEp} --write'`);
    let cpuUtil: number;
    let source: string;
    if (cpuUtilText !== undefined) {
      cpuUtil = Number(cpuUtilText);
      if (cpuUtilText.trim() === '' || !(cpuUtil >= 0 && cpuUtil <= 1)) throw new RequestError(400, `cpu_util must be a number from 0 to 1, not '${echoText(cpuUtilText)}'`);
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
