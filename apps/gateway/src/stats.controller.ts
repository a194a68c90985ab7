import { Controller, Get, Param } from '@nestjs/common';
import { StatisticsService } from './statistics.service';

/**
 * Triton's statistics extension: `GET /v2/models[/{m}[/versions/{v}]]/stats`, counted across
 * every gateway and node (Redis). Registered before the OIP controller, whose `models/:name`
 * would otherwise take `models/stats`.
 */
@Controller('v2/models')
export class StatsController {
  constructor(private readonly stats: StatisticsService) {}

  @Get('stats')
  all() {
    return this.stats.modelStats();
  }

  @Get(':name/stats')
  model(@Param('name') name: string) {
    return this.stats.modelStats(name);
  }

  @Get(':name/versions/:version/stats')
  version(@Param('name') name: string, @Param('version') version: string) {
    return this.stats.modelStats(name, version);
  }
}
