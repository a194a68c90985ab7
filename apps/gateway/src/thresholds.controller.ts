import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import Redis from 'ioredis';
import { echoText } from '@outlet/contracts';
import { GatewaySettings } from '@outlet/config';
import { InjectRedis, ThresholdStore } from '@outlet/transport';
import { agreementByExit, windowStats } from '@outlet/adaptation';
import { ModelCatalog } from './model-catalog.service';
import { RedisAvailability } from './redis-availability.service';
import { RequestError } from './inference-request';
import { ApiErrors, ApiModelParams, schemaRef } from './openapi';
import { GATEWAY_SETTINGS } from './tokens';
import { ThresholdTuner } from './threshold-tuner.service';

/** The fleet's live exit thresholds of a model, how they came to be, and what the audits show. */
@ApiTags('Plans')
@Controller('v1/models')
export class ThresholdsController {
  private readonly store: ThresholdStore;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly availability: RedisAvailability,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
    @InjectRedis() redis: Redis,
    private readonly tuner: ThresholdTuner,
  ) {
    this.store = new ThresholdStore(redis);
  }

  @Get(':name/thresholds')
  @ApiOperation({
    summary: 'Live exit thresholds',
    description: 'The current version of the exit thresholds every node uses, the history of changes with their reasons and window statistics, and the audit window: agreement with the final exit per answering exit.',
  })
  @ApiModelParams()
  @ApiQuery({ name: 'history', required: false, description: 'How many changes to list, newest first (default 50).', schema: { type: 'integer', minimum: 0, maximum: 200 } })
  @ApiOkResponse({ schema: schemaRef('Thresholds') })
  @ApiErrors({ 400: 'history is malformed.', 404: 'Unknown model.', 503: 'Redis does not answer.' })
  async thresholds(@Param('name') name: string, @Query('history') historyText?: string) {
    const pkg = this.catalog.get(name);
    const limit = historyText === undefined ? 50 : Number(historyText);
    if (!Number.isInteger(limit) || limit < 0 || limit > 200) throw new RequestError(400, `history must be a whole number from 0 to 200, not '${echoText(historyText ?? '')}'`);
    const m = pkg.manifest;
    const mv = { model: name, version: m.version };
    const [[live], history, records] = await this.availability.call(`thresholds of '${name}'`, () => Promise.all([this.store.read([mv]), this.store.history(mv, limit), this.store.audits(mv)]));
    const offline = m.exits.map((e) => e.threshold);
    const window = live ? records.filter((r) => r.at >= live.windowSince) : records;
    const tuning = this.tuner.optionsFor(name);
    return {
      model: name,
      model_version: m.version,
      adapt: this.settings.adapt,
      accuracy_budget: this.settings.accuracyBudget,
      // Before any trunk has started, the offline calibration is what the first one will store.
      version: live?.version ?? 1,
      thresholds: live?.thresholds ?? offline,
      offline_thresholds: offline,
      audit_rate: live?.auditRate ?? this.settings.auditRate,
      exit_probabilities: live?.exitProbabilities ?? null,
      updated_at: live ? new Date(live.updatedAt).toISOString() : null,
      reason: live?.reason ?? 'offline calibration (manifest.json)',
      window: {
        since: live && live.windowSince > 0 ? new Date(live.windowSince).toISOString() : null,
        records: window.length,
        at_current_thresholds: window.length ? windowStats(window, live?.thresholds ?? offline, tuning.exitCostMs, tuning.z) : null,
        agreement_by_exit: agreementByExit(window, m.exits.length),
      },
      history: history.map((c) => ({ ...c, at: new Date(c.at).toISOString() })),
    };
  }
}
