/**
 * The gateway's HTTP API as an OpenAPI 3 document (@nestjs/swagger), served at `/docs` (Swagger UI)
 * and `/docs-json`. The request and response bodies are the shared schemas of libs/contracts
 * (API_SCHEMAS, the same definitions the gateway validates requests with), put in
 * `components.schemas`; the controllers point at them with `$ref`s (`ApiBody({ schema })`,
 * `ApiResponse({ schema })`).
 */
import { INestApplication } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOkResponse, ApiParam, ApiProduces, ApiResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { API_SCHEMAS, ApiSchemaName, INFERENCE_HEADER_CONTENT_LENGTH } from '@outlet/contracts';
import { OPEN_ACCESS_EXTENSION } from './access/api-keys';
import { EVENT_STREAM } from './sse';

export const DOCS_ROUTE = 'docs';

/** A `$ref` to one of the shared schemas, by its name in the document. */
export const schemaRef = (name: ApiSchemaName) => ({ $ref: `#/components/schemas/${name}` });

/** The 503 of every operation that needs Redis to answer (RedisAvailability). */
export const REDIS_AWAY = 'Redis is away or did not answer within 1 s; retry after the Retry-After header\'s seconds.';

/** An `{"error"}` response for each status, with what it means on this route. */
export function ApiErrors(errors: Record<number, string>): MethodDecorator {
  const decorators = Object.entries(errors).map(([status, description]) => ApiResponse({ status: Number(status), description, schema: schemaRef('Error') }));
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

/** The path parameters `name` and (optionally) `version` of a model route. */
export function ApiModelParams(withVersion = false): MethodDecorator {
  const decorators = [ApiParam({ name: 'name', description: 'A served model (GET /v2/models/stats lists them).', schema: { type: 'string' }, example: 'branchy-mnist' })];
  if (withVersion) decorators.push(ApiParam({ name: 'version', description: "The model's version; another is 404.", schema: { type: 'string' }, example: '1' }));
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

/** The binary tensor data extension, as the infer operations describe it. */
export const BINARY_TENSOR_DESCRIPTION = [
  'Runs one sample and answers with the first decision of any exit (JSON, the default).',
  '',
  'The body is read as JSON whatever its `Content-Type` (or with none), and may be sent with `Content-Encoding: gzip` or `deflate`.',
  '',
  '**Binary tensor data extension** (KServe / Triton): send the header',
  `\`${INFERENCE_HEADER_CONTENT_LENGTH}: <n>\` and a body (e.g. \`application/octet-stream\`) whose first *n* bytes are the JSON request`,
  'and whose remaining bytes are the raw little-endian FP32 values of every input that has `parameters.binary_data_size` (in input order;',
  'such an input has no `data`). The sizes must add up to exactly the bytes after the JSON, else 400.',
  'Ask for outputs as binary with `outputs[].parameters.binary_data: true` or `parameters.binary_data_output: true`: the response is then',
  `\`application/octet-stream\`, its \`${INFERENCE_HEADER_CONTENT_LENGTH}\` header gives the length of its JSON part, each binary output has`,
  '`parameters.binary_data_size` and no `data`, and its bytes follow the JSON in output order.',
  '',
  '**Progressive answers**: with `parameters.progressive: true` and the header `Accept: text/event-stream`, the response is a stream of',
  'server-sent events, `event: answer` (`id:` the exit index) whose `data` is the JSON response above: the first exit decision, then,',
  'if that was an early exit, the final exit\'s answer; the last has `parameters.final: true`, then the stream ends. It starts with',
  'the first answer, so errors before it are `{"error"}` with their status; if the final answer does not come in time the stream',
  'ends with `event: error` and `{"error"}` as data. Without that Accept header a progressive request is a 400.',
].join('\n');

/** The infer operations' request, responses and errors (decorators only). */
export function ApiInferBody(): MethodDecorator {
  const decorators = [
    ApiConsumes('application/json', 'application/octet-stream'),
    ApiProduces('application/json', 'application/octet-stream', EVENT_STREAM),
    ApiHeader({
      name: INFERENCE_HEADER_CONTENT_LENGTH,
      required: false,
      description: 'Binary tensor data extension: the length in bytes of the JSON part of the body; the input bytes follow it.',
      schema: { type: 'integer', minimum: 0 },
    }),
    ApiBody({
      description: 'JSON (whatever the Content-Type), or with the binary extension a JSON header followed by raw input bytes.',
      schema: schemaRef('InferRequest'),
    }),
    ApiOkResponse({
      description: `The answer as JSON; as application/octet-stream with an ${INFERENCE_HEADER_CONTENT_LENGTH} header when outputs were asked for as binary; as ${EVENT_STREAM} for a progressive request.`,
      schema: schemaRef('InferResponse'),
      headers: { [INFERENCE_HEADER_CONTENT_LENGTH]: { description: 'Only on binary responses: the length of the JSON part.', schema: { type: 'integer' } } },
    }),
    ApiErrors({
      400: 'The body does not validate (malformed JSON, wrong input name, shape, datatype, values not finite in FP32, "data" nested unlike the shape, unknown output, bad plan, threshold, timeout, priority or progressive) or its binary framing does not add up; or progressive without Accept: text/event-stream, or with binary outputs.',
      404: 'Unknown model or version.',
      413: 'The body is larger than OUTLET_BODY_LIMIT.',
      415: 'Unsupported Content-Encoding.',
      422: 'An exit head returned a non-finite output for this input (values the model cannot compute in FP32, e.g. near ±3.4e38).',
      429: 'The model already has OUTLET_MAX_QUEUED tasks waiting; retry after Retry-After seconds.',
      500: 'The task failed in a worker.',
      503: REDIS_AWAY,
      504: 'No answer within the request\'s timeout (then the task is not run if not started) or OUTLET_INFER_TIMEOUT_MS (the task may still finish: GET /v1/jobs/{id}).',
    }),
  ];
  return (target, key, descriptor) => {
    for (const d of decorators) d(target, key, descriptor);
  };
}

const API_KEY_SCHEME = 'api_key';
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: schemaRef('Error') } } });

/** Build the document from the controllers' decorators and add the schemas above. */
export function createOpenApiDocument(app: INestApplication, models: string[]) {
  const config = new DocumentBuilder()
    .setTitle('Outlet gateway')
    .setDescription(
      'Multi-exit (early-exit) inference over the Open Inference Protocol v2 (KServe / Triton HTTP), with its binary tensor data, ' +
        'statistics and model configuration extensions, plus asynchronous jobs, plan decisions and Prometheus metrics. ' +
        `Served models: ${models.join(', ')}. Errors are always \`{"error": "..."}\`. ` +
        'Not described here: Bull Board at /admin/queues (HTML, behind basic auth when OUTLET_ADMIN_USER/OUTLET_ADMIN_PASSWORD are set) ' +
        'and the gRPC service inference.GRPCInferenceService on OUTLET_GRPC_PORT.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'One of OUTLET_API_KEYS; needed only when that setting is set.' }, API_KEY_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // As plain JSON: TypeBox marks its schemas with symbol keys, which are no part of the document.
  const schemas = JSON.parse(JSON.stringify(API_SCHEMAS));
  document.components = { ...document.components, schemas: { ...(document.components?.schemas ?? {}), ...schemas } };
  const binary = {
    type: 'string',
    format: 'binary',
    description: `A JSON header of ${INFERENCE_HEADER_CONTENT_LENGTH} bytes (the schema of application/json), then the raw little-endian tensor bytes.`,
  };
  const eventStream = {
    type: 'string',
    description: 'Server-sent events: `event: answer` with an InferResponse as JSON data, one per answer; or a last `event: error` with `{"error"}`.',
  };
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item as Record<string, any>)) {
      if (typeof op !== 'object' || op === null || !op.responses) continue;
      // Every route needs a key when OUTLET_API_KEYS is set, except health (@OpenAccess).
      if (op[OPEN_ACCESS_EXTENSION]) {
        delete op[OPEN_ACCESS_EXTENSION];
        op.security = [];
      } else {
        op.security = [{ [API_KEY_SCHEME]: [] }];
        op.responses['401'] ??= errorResponse('No API key, or a wrong one (only when OUTLET_API_KEYS is set); the WWW-Authenticate header says which.');
        op.responses['429'] ??= errorResponse('Over the rate limit of this API key or client (only when OUTLET_RATE_LIMIT is set); Retry-After gives the seconds to wait.');
      }
      // The model name is one of the served models.
      for (const p of op.parameters ?? []) if (p.in === 'path' && p.name === 'name') p.schema = { ...p.schema, enum: models };
      // A framed (binary tensor data) body is bytes, not the JSON schema the decorators give every content type.
      const octet = op.requestBody?.content?.['application/octet-stream'];
      if (octet) octet.schema = binary;
      for (const [status, res] of Object.entries(op.responses as Record<string, any>)) {
        if (!res.content) continue;
        if (!/^2/.test(status)) {
          // Errors are {"error"} JSON whatever the request asked for.
          delete res.content['application/octet-stream'];
          delete res.content[EVENT_STREAM];
          continue;
        }
        if (res.content['application/octet-stream']) res.content['application/octet-stream'].schema = binary;
        if (res.content[EVENT_STREAM]) res.content[EVENT_STREAM].schema = eventStream;
      }
    }
  }
  return document;
}

/** Swagger UI at /docs and the document at /docs-json. */
export function setupOpenApi(app: INestApplication, models: string[]): void {
  SwaggerModule.setup(DOCS_ROUTE, app, () => createOpenApiDocument(app, models), { jsonDocumentUrl: `${DOCS_ROUTE}-json`, raw: ['json'] });
}
