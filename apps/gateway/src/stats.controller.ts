import { Controller, Get, Param } from '@nestjs/common';
import { StatisticsService } from './statistics.service';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiModelParams, schemaRef } from './openapi';

/**
 * Triton's statistics extension: `GET /v2/models[/{m}[/versions/{v}]]/stats`, counted across
 * every gateway and node (Redis). Registered before the OIP controller, whose `models/:name`
 * would otherwise take `models/stats`.
 */
@ApiTags('Open Inference Protocol v2')
@Controller('v2/models')
export class StatsController {
  constructor(private readonly stats: StatisticsService) {}

  @Get('stats')
  @ApiOperation({ summary: 'Statistics of every model (statistics extension)' })
  @ApiOkResponse({ schema: schemaRef('ModelStatistics') })
  all() {
    return this.stats.modelStats();
  }

  @Get(':name/stats')
  @ApiOperation({ summary: 'Statistics of a model (statistics extension)' })
  @ApiModelParams()
  @ApiOkResponse({ schema: schemaRef('ModelStatistics') })
  @ApiErrors({ 404: 'Unknown model.' })
  model(@Param('name') name: string) {
    return this.stats.modelStats(name);
  }

  @Get(':name/versions/:version/stats')
  @ApiOperation({ summary: 'Statistics of a model version (statistics extension)' })
  @ApiModelParams(true)
  @ApiOkResponse({ schema: schemaRef('ModelStatistics') })
  @ApiErrors({ 404: 'Unknown model or version.' })
  version(@Param('name') name: string, @Param('version') version: string) {
    return this.stats.modelStats(name, version);
  }
}
