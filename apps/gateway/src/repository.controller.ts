import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';
import { RequestError } from './inference-request';
import { ContractError, checkRepositoryIndexRequest } from '@outlet/contracts';
import { ApiErrors, schemaRef } from './openapi';
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
  @ApiBody({ required: false, schema: schemaRef('RepositoryIndexRequest') })
  @ApiOkResponse({ schema: schemaRef('RepositoryIndex') })
  @ApiErrors({ 400: 'The body is not {"ready"?: boolean}.' })
  index(@Body() body: unknown) {
    let ready: boolean | undefined;
    try {
      ready = body === undefined ? undefined : checkRepositoryIndexRequest(body).ready;
    } catch (err) {
      if (err instanceof ContractError) throw new RequestError(400, err.message);
      throw err;
    }
    return repositoryIndex(this.catalog, this.nodes, ready === true);
  }
}
