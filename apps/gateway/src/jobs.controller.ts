import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { Request } from 'express';
import { InferenceService } from './inference.service';
import { receivedAt } from './inference.controller';
import { ModelCatalog } from './model-catalog.service';
import { RequestError, validateInferRequest } from './inference-request';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, REDIS_AWAY, schemaRef } from './openapi';

/** Asynchronous tasks: submit now, fetch the answer later. */
@ApiTags('Asynchronous jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly inference: InferenceService,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit a task', description: 'Validated as the infer request (JSON only, no binary extension), then queued; poll GET /v1/jobs/{id}.' })
  @ApiBody({ schema: schemaRef('JobRequest') })
  @ApiAcceptedResponse({ schema: schemaRef('JobAccepted') })
  @ApiErrors({ 400: 'The body does not validate (see the infer operation), or "model" is missing.', 404: 'Unknown model.', 413: 'The body is larger than OUTLET_BODY_LIMIT.', 415: 'Unsupported Content-Encoding.', 429: 'The model already has OUTLET_MAX_QUEUED tasks waiting (see Retry-After).', 503: REDIS_AWAY })
  async submit(@Body() body: unknown, @Req() req: Request) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RequestError(400, 'the request body must be a JSON object {"model", "inputs", "parameters"?}');
    }
    const { model, ...request } = body as Record<string, unknown>;
    if (typeof model !== 'string') throw new RequestError(400, '"model" must name a served model');
    const pkg = this.catalog.get(model);
    const id = await this.inference.submit(model, validateInferRequest(request, pkg.manifest), receivedAt(req));
    return { id, model, state: 'waiting' };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A task\'s state, with its answer once done' })
  @ApiParam({ name: 'id', description: 'The id POST /v1/jobs answered.', schema: { type: 'string' } })
  @ApiOkResponse({ schema: schemaRef('JobStatus') })
  @ApiErrors({ 404: 'Unknown job, or no longer kept (OUTLET_JOB_RETENTION per model).', 503: REDIS_AWAY })
  status(@Param('id') id: string) {
    return this.inference.jobStatus(id);
  }
}
