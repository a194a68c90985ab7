import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';
import { RequestError } from './inference-request';
import { ApiErrors } from './openapi';
import { repositoryIndex } from './repository-index';

/**
 * Triton's repository index (`POST /v2/repository/index`), which `tritonclient`'s
 * get_model_repository_index() asks for: every served model with READY while a live trunk worker
 * serves it. Loading and unloading models is not offered (models come from OUTLET_MODELS_DIR).
 */
@ApiTags('Open Inference Protocol v2')
@Controller('v2/repository')
export class RepositoryController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly nodes: NodeRegistry,
  ) {}

  @Post('index')
  @HttpCode(200)
  @ApiOperation({ summary: "The served models and their state (Triton's repository index; no load/unload)" })
  @ApiBody({ required: false, schema: { type: 'object', properties: { ready: { type: 'boolean', description: 'only models that are ready' } } } })
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, state: { type: 'string', enum: ['READY', 'UNAVAILABLE'] }, reason: { type: 'string' } } },
    },
  })
  @ApiErrors({ 400: 'The body is not {"ready"?: boolean}.' })
  index(@Body() body: unknown) {
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw new RequestError(400, 'the request body must be empty or a JSON object {"ready"?: boolean}');
    }
    const ready = (body as { ready?: unknown } | undefined)?.ready;
    if (ready !== undefined && typeof ready !== 'boolean') throw new RequestError(400, '"ready" must be true or false');
    return repositoryIndex(this.catalog, this.nodes, ready === true);
  }
}
