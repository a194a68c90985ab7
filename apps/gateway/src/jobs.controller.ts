import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { InferenceService } from './inference.service';
import { ModelCatalog } from './model-catalog.service';
import { RequestError, validateInferRequest } from './inference-request';

/** Asynchronous tasks: submit now, fetch the answer later. */
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly inference: InferenceService,
  ) {}

  @Post()
  @HttpCode(202)
  async submit(@Body() body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RequestError(400, 'the request body must be a JSON object {"model", "inputs", "parameters"?}');
    }
    const { model, ...request } = body as Record<string, unknown>;
    if (typeof model !== 'string') throw new RequestError(400, '"model" must name a served model');
    const pkg = this.catalog.get(model);
    const id = await this.inference.submit(model, validateInferRequest(request, pkg.manifest));
    return { id, model, state: 'waiting' };
  }

  @Get(':id')
  status(@Param('id') id: string) {
    return this.inference.jobStatus(id);
  }
}
