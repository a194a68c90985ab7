import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import { echoText, nowMs } from '@outlet/contracts';
import { GatewaySettings } from '@outlet/config';
import { InferenceService } from '../inference.service';
import { ModelCatalog } from '../model-catalog.service';
import { NodeRegistry } from '../node-registry.service';
import { GatewayTransport } from '../gateway-transport.service';
import { RedisAvailability, RedisUnavailableError } from '../redis-availability.service';
import { RequestError } from '../inference-request';
import { GATEWAY_SETTINGS } from '../tokens';
import { loadGrpcInferenceService } from './proto';
import {
  ModelInferRequest,
  ModelStreamInferResponse,
  OipAnswer,
  grpcCode,
  emptyFinalResponse,
  streamErrorResponse,
  toModelInferResponse,
  toModelStatistics,
  toModelStreamInferResponse,
  toValidInferRequest,
} from './messages';
import { modelMetadata, serverMetadata } from '../oip-metadata';
import { toTritonModelConfig } from '../statistics-shape';
import { StatisticsService } from '../statistics.service';
import { repositoryIndex } from '../repository-index';
import { GrpcAccess, GrpcRefusal } from '../access/grpc-access';

/** How long in-flight calls may finish when the gateway closes, before they are cancelled. */
const SHUTDOWN_GRACE_MS = 5_000;

type Handler<Req, Res> = (request: Req) => Promise<Res> | Res;

/** A request that names a model and, optionally, its version (ModelReady, ModelMetadata, ModelConfig, ModelStatistics). */
interface ModelRequest {
  name?: string;
  version?: string;
}

/**
 * The Open Inference Protocol v2 over gRPC (`inference.GRPCInferenceService`), beside the HTTP
 * API on OUTLET_GRPC_PORT: the same catalog, validation and InferenceService; ModelConfig,
 * ModelStatistics and RepositoryIndex answer what the functions behind their HTTP twins make (their
 * objects already carry Triton's field names; messages.ts leaves out what a message has no field
 * for). A RequestError's HTTP status becomes its gRPC status code (400 INVALID_ARGUMENT, 404
 * NOT_FOUND, 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED, else INTERNAL).
 */
@Injectable()
export class GrpcInferenceServer implements OnModuleDestroy {
  private readonly logger = new Logger('Grpc');
  private server?: grpc.Server;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly inference: InferenceService,
    private readonly nodes: NodeRegistry,
    private readonly transport: GatewayTransport,
    private readonly redis: RedisAvailability,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
    private readonly access: GrpcAccess,
    private readonly stats: StatisticsService,
  ) {}

  /** Bind host:port (port 0: one the OS picks) and serve; resolves with the port bound. */
  async listen(host: string = this.settings.host, port: number = this.settings.grpcPort): Promise<number> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    server.addService(loadGrpcInferenceService().service, {
      // Health stays open, as over HTTP: probes carry no key.
      ServerLive: this.unary(() => ({ live: true }), 'open'),
      ServerReady: this.unary(async () => ({ ready: await this.transport.ping().then(() => true, () => false) }), 'open'),
      ModelReady: this.unary(async (req: ModelRequest) => {
        this.catalog.manifest(req.name ?? '', req.version);
        // Not ready while Redis is away, as ServerReady.
        const served = this.redis.call('ModelReady', () => this.nodes.isModelServed(req.name ?? ''));
        return { ready: await served.catch((err) => (err instanceof RedisUnavailableError ? false : Promise.reject(err))) };
      }, 'open'),
      ServerMetadata: this.unary(() => serverMetadata()),
      ModelMetadata: this.unary((req: ModelRequest) => modelMetadata(this.catalog.manifest(req.name ?? '', req.version))),
      ModelConfig: this.unary((req: ModelRequest) => ({ config: toTritonModelConfig(this.catalog.manifest(req.name ?? '', req.version), this.settings.defaultPlan) })),
      // Empty strings are proto3's absent fields: every model, every version.
      ModelStatistics: this.unary(async (req: ModelRequest) => {
        const { model_stats } = await this.stats.modelStats(req.name || undefined, req.version || undefined);
        return { model_stats: model_stats.map(toModelStatistics) };
      }),
      RepositoryIndex: this.unary(async (req: { repository_name?: string; ready?: boolean }) => {
        if (req.repository_name) {
          throw new RequestError(400, `Outlet has one model repository: leave repository_name empty (got '${echoText(req.repository_name)}')`);
        }
        return { models: await repositoryIndex(this.catalog, this.nodes, req.ready === true) };
      }),
      ModelInfer: this.unary(async (req: ModelInferRequest) => {
        const receivedAt = nowMs();
        const name = req.model_name ?? '';
        const { request, raw } = toValidInferRequest(req, this.catalog.get(name).manifest);
        const answer = (await this.inference.infer(name, request, receivedAt)) as OipAnswer;
        return toModelInferResponse(answer, raw);
      }),
      ModelStreamInfer: (call: grpc.ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>) => this.streamInfer(call),
    });
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(new Error(`gRPC cannot listen on ${address}: ${err.message}`)) : resolve(p))),
    );
    this.server = server;
    return bound;
  }

  /** Stop taking calls, let in-flight ones finish (up to SHUTDOWN_GRACE_MS), then cancel the rest. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  onModuleDestroy() {
    return this.close();
  }

  /**
   * ModelStreamInfer: every request on the stream is one task, run as they come (answers may
   * interleave; each names its request's id). A `progressive` request gets a response per answer,
   * the early exit's then the final exit's; any other gets one; a request's last response carries
   * `triton_final_response: true`. A request that fails gets `error_message` and the stream stays
   * open. The API key is checked once, when the stream opens (UNAUTHENTICATED ends it); every
   * request counts against the rate limit. The call ends when the client has closed its side and
   * every request is answered.
   */
  private streamInfer(call: grpc.ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>): void {
    let keyId: string | undefined;
    try {
      keyId = this.access.authenticate(call);
    } catch (err) {
      call.emit('error', this.failure(err));
      return;
    }
    let running = 0;
    let closed = false;
    const endIfDone = () => {
      if (closed && running === 0) call.end();
    };
    call.on('data', (request: ModelInferRequest) => {
      running++;
      this.streamTask(call, request, keyId).finally(() => {
        running--;
        endIfDone();
      });
    });
    call.on('end', () => {
      closed = true;
      endIfDone();
    });
  }

  /** One request of a ModelStreamInfer call, answered on it; never throws. */
  private async streamTask(call: grpc.ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>, req: ModelInferRequest, keyId: string | undefined): Promise<void> {
    const send = (response: ModelStreamInferResponse) => {
      // A call the client cancelled takes no more writes.
      if (!call.cancelled) call.write(response);
    };
    try {
      await this.access.throttle(call, keyId);
      const receivedAt = nowMs();
      const name = req.model_name ?? '';
      const { request, raw } = toValidInferRequest(req, this.catalog.get(name).manifest);
      // Triton's clients may ask for an empty response to close the request (enable_empty_final_response):
      // then that one is the final response, and no answer is marked final.
      const emptyFinal = req.parameters?.triton_enable_empty_final_response?.bool_param === true;
      if (!request.progressive) {
        send(toModelStreamInferResponse(await this.inference.infer(name, request, receivedAt), raw, !emptyFinal));
      } else {
        for await (const answer of this.inference.inferProgressive(name, request, receivedAt)) {
          send(toModelStreamInferResponse(answer, raw, answer.parameters.final === true && !emptyFinal));
        }
      }
      if (emptyFinal) send(emptyFinalResponse(req));
    } catch (err) {
      send(streamErrorResponse(req, this.failure(err).details));
    }
  }

  /** A handler's error as the gRPC status it answers (an unexpected one is logged, and INTERNAL). */
  private failure(err: unknown): { code: grpc.status; details: string } {
    if (err instanceof GrpcRefusal) return { code: err.code, details: err.message };
    if (err instanceof RequestError) return { code: grpcCode(err.status), details: err.message };
    this.logger.error(err instanceof Error ? err.stack : String(err));
    return { code: grpc.status.INTERNAL, details: 'internal error' };
  }

  /**
   * `access`: 'keyed' calls need the `authorization: Bearer <key>` metadata when OUTLET_API_KEYS is
   * set, and count against the rate limit when OUTLET_RATE_LIMIT is.
   */
  private unary<Req, Res>(handler: Handler<Req, Res>, access: 'open' | 'keyed' = 'keyed'): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => (access === 'keyed' ? this.access.admit(call) : undefined))
        .then(() => handler(call.request))
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(this.failure(err)),
        );
    };
  }
}
