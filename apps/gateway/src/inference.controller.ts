import { Body, Controller, Get, HttpCode, Inject, Logger, Param, Post, Req, Res, StreamableFile } from '@nestjs/common';
import { Request, Response } from 'express';
import { PassThrough } from 'node:stream';
import { INFERENCE_HEADER_CONTENT_LENGTH, echoText, nowMs } from '@outlet/contracts';
import { GatewaySettings } from '@outlet/config';
import { InferenceService } from './inference.service';
import { GatewayTransport } from './gateway-transport.service';
import { RedisAvailability } from './redis-availability.service';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';
import { RequestError, ValidInferRequest } from './inference-request';
import { OipResponse } from './oip-response';
import { EVENT_STREAM, acceptsEventStream, sseEvent } from './sse';
import { decodeInferRequest, encodeInferResponse } from './binary-tensor';
import { binaryPart } from './body-parser';
import { modelMetadata, serverMetadata } from './oip-metadata';
import { GATEWAY_SETTINGS } from './tokens';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OpenAccess } from './access/api-keys';
import { ApiErrors, ApiInferBody, ApiModelParams, BINARY_TENSOR_DESCRIPTION, schemaRef } from './openapi';

/** When the request arrived (set by the first middleware), for statistics and its deadline. */
export const receivedAt = (req: Request) => (req as Request & { receivedAt?: number }).receivedAt ?? nowMs();

/** The Open Inference Protocol v2 (KServe / Triton HTTP): health, metadata, infer. */
@ApiTags('Open Inference Protocol v2')
@Controller('v2')
export class InferenceController {
  private readonly logger = new Logger(InferenceController.name);

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly inference: InferenceService,
    private readonly nodes: NodeRegistry,
    private readonly transport: GatewayTransport,
    private readonly redis: RedisAvailability,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Server metadata', description: 'Name, version and the protocol extensions served.' })
  @ApiOkResponse({ schema: schemaRef('ServerMetadata') })
  serverMetadata() {
    return serverMetadata();
  }

  @Get('health/live')
  @OpenAccess()
  @ApiOperation({ summary: 'Server liveness' })
  @ApiOkResponse({ schema: schemaRef('ServerLive') })
  live() {
    return { live: true };
  }

  @Get('health/ready')
  @OpenAccess()
  @ApiOperation({ summary: 'Server readiness', description: 'Ready when Redis answers.' })
  @ApiOkResponse({ schema: schemaRef('ServerReady') })
  @ApiErrors({ 503: 'Redis does not answer.' })
  async ready() {
    try {
      await this.transport.ping();
    } catch (err) {
      throw new RequestError(503, `not ready: Redis does not answer (${(err as Error).message})`);
    }
    return { ready: true };
  }

  @Get('models/:name')
  @ApiOperation({ summary: 'Model metadata', description: 'Input and output tensors, exits, thresholds, the default plan and the labels.' })
  @ApiModelParams()
  @ApiOkResponse({ schema: schemaRef('ModelMetadata') })
  @ApiErrors({ 404: 'Unknown model.' })
  metadata(@Param('name') name: string) {
    const m = this.catalog.get(name).manifest;
    return {
      ...modelMetadata(m),
      parameters: {
        description: m.description ?? '',
        exit_count: m.exits.length,
        exit_thresholds: m.exits.map((e) => e.threshold),
        default_plan: this.settings.defaultPlan,
        labels: m.labels ?? [],
      },
    };
  }

  @Get('models/:name/ready')
  @OpenAccess()
  @ApiOperation({ summary: 'Model readiness', description: 'Ready when a live trunk worker serves the model.' })
  @ApiModelParams()
  @ApiOkResponse({ schema: schemaRef('ModelReady') })
  @ApiErrors({ 404: 'Unknown model.', 503: 'No live trunk worker serves the model, or Redis does not answer.' })
  async modelReady(@Param('name') name: string) {
    this.catalog.get(name);
    if (!(await this.redis.call(`model '${name}' is not ready`, () => this.nodes.isModelServed(name)))) {
      throw new RequestError(503, `model '${echoText(name)}' is not ready: no live trunk worker serves it`);
    }
    return { name, ready: true };
  }

  @Post('models/:name/infer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference', description: BINARY_TENSOR_DESCRIPTION })
  @ApiModelParams()
  @ApiInferBody()
  infer(@Param('name') name: string, @Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    return this.runInfer(name, body, req, res);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Inference on a model version', description: BINARY_TENSOR_DESCRIPTION })
  @ApiModelParams(true)
  @ApiInferBody()
  inferVersion(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    this.catalog.manifest(name, version);
    return this.runInfer(name, body, req, res);
  }

  /**
   * JSON, or the binary tensor data extension both ways: binary inputs after the JSON header, and
   * the outputs asked for as binary after the response's JSON (`Inference-Header-Content-Length`).
   */
  private async runInfer(name: string, body: unknown, req: Request, res: Response) {
    const pkg = this.catalog.get(name);
    const request = decodeInferRequest(body, binaryPart(req), pkg.manifest);
    // Without the stream asked for, InferenceService refuses a progressive request (400).
    if (request.progressive && acceptsEventStream(req.headers.accept)) return this.streamAnswers(name, request, req, res);
    const response = await this.inference.infer(name, request, receivedAt(req));
    const { json, binary } = encodeInferResponse(response, new Set(request.binaryOutputs ?? []));
    if (!binary) return json;
    res.setHeader(INFERENCE_HEADER_CONTENT_LENGTH, String(binary.headerLength));
    return new StreamableFile(binary.body, { type: 'application/octet-stream', length: binary.body.byteLength });
  }

  /**
   * A progressive request's answers as server-sent events: `event: answer` (with `id:` its exit
   * index) whose data is the infer response's JSON, the last one with `parameters.final: true`;
   * then the stream ends. The stream starts with the first answer, so every refusal or failure
   * before it is a plain `{"error"}` with its status; one after it (the final answer did not come
   * in time) is an `event: error` with that `{"error"}`.
   */
  private async streamAnswers(name: string, request: ValidInferRequest, req: Request, res: Response) {
    if (request.binaryOutputs) {
      throw new RequestError(400, 'parameters.progressive answers are JSON events: ask for the outputs without binary_data (binary_data_output)');
    }
    const responses = this.inference.inferProgressive(name, request, receivedAt(req));
    const first = await responses.next();
    const events = new PassThrough();
    const answer = (response: OipResponse) => events.write(sseEvent('answer', JSON.stringify(response), String(response.parameters.exit_index)));
    if (!first.done) answer(first.value);
    void (async () => {
      try {
        for await (const response of responses) answer(response);
      } catch (err) {
        events.write(sseEvent('error', JSON.stringify({ error: err instanceof RequestError ? err.message : 'internal error' })));
        if (!(err instanceof RequestError)) this.logger.error(err instanceof Error ? err.stack : String(err));
      } finally {
        events.end();
      }
    })();
    res.setHeader('Cache-Control', 'no-cache');
    return new StreamableFile(events, { type: EVENT_STREAM });
  }
}
