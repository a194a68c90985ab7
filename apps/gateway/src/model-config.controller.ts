import { Controller, Get, Inject, Param } from '@nestjs/common';
import { GatewaySettings } from '@outlet/config';
import { ModelCatalog } from './model-catalog.service';
import { toTritonModelConfig } from './statistics-shape';
import { GATEWAY_SETTINGS } from './tokens';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiModelParams, schemaRef } from './openapi';

/** Triton's model configuration extension: `GET /v2/models/{m}[/versions/{v}]/config`. */
@ApiTags('Open Inference Protocol v2')
@Controller('v2/models')
export class ModelConfigController {
  constructor(
    private readonly catalog: ModelCatalog,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Get(':name/config')
  @ApiOperation({ summary: 'Model configuration (model_configuration extension, Triton\'s shape)' })
  @ApiModelParams()
  @ApiOkResponse({ schema: schemaRef('ModelConfig') })
  @ApiErrors({ 404: 'Unknown model.' })
  config(@Param('name') name: string) {
    return toTritonModelConfig(this.catalog.get(name).manifest, this.settings.defaultPlan);
  }

  @Get(':name/versions/:version/config')
  @ApiOperation({ summary: 'Model version configuration (model_configuration extension)' })
  @ApiModelParams(true)
  @ApiOkResponse({ schema: schemaRef('ModelConfig') })
  @ApiErrors({ 404: 'Unknown model or version.' })
  versionConfig(@Param('name') name: string, @Param('version') version: string) {
    return toTritonModelConfig(this.catalog.manifest(name, version), this.settings.defaultPlan);
  }
}
