import { Manifest } from '@outlet/model-package';
import { AnswerParameters, TritonModelStat, echoText, elementCount } from '@outlet/contracts';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { RequestError, ValidInferRequest, validateInferRequest } from '../inference-request';
import { checkVersion } from '../model-catalog.service';

/**
 * Between gRPC messages (as @grpc/proto-loader decodes them with PROTO_LOADER_OPTIONS) and the
 * gateway's own request and answer: a ModelInferRequest becomes the OIP JSON request it stands for
 * and goes through the same validateInferRequest as HTTP, so both refuse alike.
 */

/** An InferParameter: exactly one of its fields, named by `parameter_choice`. */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: number;
  string_param?: string;
  double_param?: number;
  uint64_param?: number;
}

export type InferTensorContents = Partial<Record<ContentsField, unknown[]>>;

export interface InferInputTensor {
  name?: string;
  datatype?: string;
  shape?: number[];
  parameters?: Record<string, InferParameter>;
  contents?: InferTensorContents | null;
}

export interface ModelInferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameter>;
  inputs?: InferInputTensor[];
  outputs?: { name?: string; parameters?: Record<string, InferParameter> }[];
  raw_input_contents?: Uint8Array[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: InferTensorContents;
}

/** What InferenceService.infer answers (an OIP v2 response), as far as gRPC reads it. */
export interface OipAnswer {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: number[]; data: ArrayLike<number> }[];
  parameters?: Record<string, unknown>;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}

/** One message of ModelStreamInfer: a response, or why its request failed (`error_message` not empty). */
export interface ModelStreamInferResponse {
  error_message: string;
  infer_response: Partial<ModelInferResponse>;
}

type ContentsField =
  | 'bool_contents'
  | 'int_contents'
  | 'int64_contents'
  | 'uint_contents'
  | 'uint64_contents'
  | 'fp32_contents'
  | 'fp64_contents'
  | 'bytes_contents';

/** The InferTensorContents field that holds each datatype's values (FP16 and BF16 travel raw only). */
const CONTENTS_FIELD: Record<string, ContentsField> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const bad = (message: string) => new RequestError(400, message);

/** The HTTP status of a RequestError as a gRPC status code; anything else is INTERNAL. */
export function grpcCode(status: number): GrpcStatus {
  switch (status) {
    case 400:
    case 422:
      return GrpcStatus.INVALID_ARGUMENT;
    case 404:
      return GrpcStatus.NOT_FOUND;
    case 429:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 503:
      return GrpcStatus.UNAVAILABLE;
    case 504:
      return GrpcStatus.DEADLINE_EXCEEDED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

/** A gRPC parameter map as the JSON `parameters` object of an OIP request. */
export function fromInferParameters(parameters: Record<string, InferParameter> | undefined): Record<string, unknown> | undefined {
  const entries = Object.entries(parameters ?? {});
  if (entries.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, p] of entries) {
    const choice = p.parameter_choice ?? (Object.keys(p).find((k) => k.endsWith('_param')) as InferParameter['parameter_choice']);
    out[key] = choice ? p[choice] : undefined;
  }
  return out;
}

/**
 * An answer's parameters as gRPC InferParameters. Numbers take the kind their schema
 * (AnswerParameters) gives them, so a client reads `exit_confidence` or `queue_ms` from
 * `double_param` even when a value happens to be whole; numbers the schema does not name: integers
 * as int64, others as double.
 */
export function toInferParameters(parameters: Record<string, unknown> | undefined): Record<string, InferParameter> {
  const out: Record<string, InferParameter> = {};
  for (const [key, v] of Object.entries(parameters ?? {})) {
    if (typeof v === 'boolean') out[key] = { bool_param: v };
    else if (typeof v === 'number') out[key] = numberKind(key, v) === 'integer' ? { int64_param: v } : { double_param: v };
    else if (typeof v === 'string') out[key] = { string_param: v };
    else if (v !== undefined && v !== null) out[key] = { string_param: JSON.stringify(v) };
  }
  return out;
}

const ANSWER_NUMBER_KINDS = new Map(
  Object.entries(AnswerParameters.properties).map(([key, schema]) => [key, (schema as { type?: string }).type]),
);

function numberKind(key: string, value: number): 'integer' | 'number' {
  const kind = ANSWER_NUMBER_KINDS.get(key);
  if (kind === 'integer' || kind === 'number') return kind;
  return Number.isSafeInteger(value) ? 'integer' : 'number';
}

function shapeCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) return undefined;
  return elementCount(shape);
}

export interface GrpcInferRequest {
  request: ValidInferRequest;
  /** The request sent raw_input_contents: answer with raw_output_contents. */
  raw: boolean;
}

/**
 * A ModelInferRequest as the gateway's ValidInferRequest. Its inputs, outputs and parameters are
 * checked by validateInferRequest on the equivalent OIP JSON request; what only gRPC has (raw
 * bytes, the contents field of a datatype) is checked here, after the rest, so a wrong datatype or
 * shape is named before a byte count.
 */
export function toValidInferRequest(message: ModelInferRequest, manifest: Manifest): GrpcInferRequest {
  checkVersion(manifest, message.model_version);
  const inputs = message.inputs ?? [];
  const rawContents = message.raw_input_contents ?? [];
  const raw = rawContents.length > 0;
  if (raw && inputs.some((t) => hasContents(t.contents))) {
    throw bad('raw_input_contents and inputs[].contents cannot both be given: send each input one way');
  }
  if (raw && rawContents.length !== inputs.length) {
    throw bad(`raw_input_contents has ${rawContents.length} entries for ${inputs.length} inputs: give one per input, in the order of "inputs"`);
  }

  let problem: string | undefined;
  const jsonInputs = inputs.map((t, i) => {
    // Raw bytes go to validateInferRequest as they are (no JSON numbers), as HTTP's binary tensors do.
    if (raw) return { name: t.name, datatype: t.datatype, shape: t.shape };
    const count = shapeCount(t.shape);
    const datatype = t.datatype ?? '';
    const field = CONTENTS_FIELD[datatype];
    const values = field ? t.contents?.[field] : undefined;
    if (values && values.length > 0) return { name: t.name, datatype: t.datatype, shape: t.shape, data: values };
    if (count !== 0) problem ??= `input '${echoText(String(t.name))}' has no values: send them in inputs[${i}].contents.${field ?? 'fp32_contents'} or in raw_input_contents[${i}]`;
    // Placeholder values of the right count let validateInferRequest name any other problem first.
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: new Array(count ?? 0).fill(0) };
  });

  const body: Record<string, unknown> = { inputs: jsonInputs };
  if (message.id) body.id = message.id;
  if (message.outputs && message.outputs.length > 0) body.outputs = message.outputs.map((o) => ({ name: o.name }));
  const parameters = fromInferParameters(message.parameters);
  if (parameters) body.parameters = parameters;

  const request = validateInferRequest(body, manifest, raw ? rawContents : undefined);
  if (problem !== undefined) throw bad(problem);
  return { request, raw };
}

function hasContents(contents: InferTensorContents | null | undefined): boolean {
  return !!contents && Object.values(contents).some((v) => Array.isArray(v) && v.length > 0);
}

/** The gateway's OIP answer as a ModelInferResponse: raw bytes if the request was raw, else fp32_contents. */
export function toModelInferResponse(answer: OipAnswer, raw: boolean): ModelInferResponse {
  const outputs: InferOutputTensor[] = [];
  const rawOutputs: Buffer[] = [];
  for (const o of answer.outputs) {
    const values = Array.from(o.data);
    const tensor: InferOutputTensor = { name: o.name, datatype: o.datatype, shape: o.shape };
    if (raw) {
      const bytes = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
      rawOutputs.push(bytes);
    } else {
      tensor.contents = { fp32_contents: values };
    }
    outputs.push(tensor);
  }
  return {
    model_name: answer.model_name,
    model_version: answer.model_version,
    id: answer.id ?? '',
    parameters: toInferParameters(answer.parameters),
    outputs,
    raw_output_contents: rawOutputs,
  };
}

/**
 * A response on ModelStreamInfer, marked as Triton marks the responses of a decoupled model: the
 * parameter `triton_final_response` (bool) is true on the request's last response.
 */
export function toModelStreamInferResponse(answer: OipAnswer, raw: boolean, final: boolean): ModelStreamInferResponse {
  const response = toModelInferResponse(answer, raw);
  response.parameters.triton_final_response = { bool_param: final };
  return { error_message: '', infer_response: response };
}

/** The empty response that closes a request whose client set `triton_enable_empty_final_response`, as Triton sends it. */
export function emptyFinalResponse(request: ModelInferRequest): ModelStreamInferResponse {
  return {
    error_message: '',
    infer_response: { model_name: request.model_name ?? '', model_version: request.model_version ?? '', id: request.id ?? '', parameters: { triton_final_response: { bool_param: true } }, outputs: [], raw_output_contents: [] },
  };
}

/** A failed request on ModelStreamInfer: the reason, and (as Triton does) the request's id and model so the client knows which. */
export function streamErrorResponse(request: ModelInferRequest, message: string): ModelStreamInferResponse {
  return { error_message: message, infer_response: { model_name: request.model_name ?? '', model_version: request.model_version ?? '', id: request.id ?? '' } };
}

/**
 * A model's statistics as Triton's ModelStatistics message: the same object as HTTP's, less Outlet's
 * own `outlet` numbers (answers per exit and worker, trunk and branch counters), which Triton's
 * message has no field for.
 */
export function toModelStatistics(stat: TritonModelStat): Omit<TritonModelStat, 'outlet'> {
  const { outlet: _httpOnly, ...triton } = stat;
  return triton;
}
