import { Manifest, earlyExitCount } from '@outlet/model-package';
import { ConfigError } from '@outlet/config';
import { ContractError, InferRequest, PlanError, bufferToFloat32, checkInferRequest, echoText, echoValue, elementCount, parsePlan } from '@outlet/contracts';

/** A request the gateway refuses; `status` is the HTTP status to answer with, `retryAfterS` its Retry-After. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

const bad = (message: string) => new RequestError(400, message);

export interface ValidInferRequest {
  id?: string;
  data: Float32Array;
  shape: number[];
  plan?: string;
  threshold?: number;
  /** Triton's `timeout`: microseconds from receipt until the task is no longer worth running. */
  timeoutUs?: number;
  /** Triton's `priority`: 1 is the highest; absent (or 0) is the gateway's default level. */
  priority?: number;
  /** Outputs to answer as raw bytes (binary tensor data extension); absent or empty: all as JSON. */
  binaryOutputs?: string[];
  /** Answer early, then again at the final exit (a stream only: SSE or gRPC ModelStreamInfer); absent: false. */
  progressive?: true;
}

/** OUTLET_DEFAULT_PLAN must be a plan every served model accepts. */
export function checkDefaultPlan(plan: string, catalog: { packages: Map<string, { manifest: Manifest }> }): void {
  for (const { manifest } of catalog.packages.values()) {
    try {
      validatePlan(plan, manifest);
    } catch (err) {
      throw new ConfigError(`OUTLET_DEFAULT_PLAN='${plan}' does not fit model '${manifest.name}': ${(err as Error).message}`);
    }
  }
}

/** Check the request's plan against the model: a preset, `auto`, or one placement per early exit. */
export function validatePlan(plan: string, manifest: Manifest): string {
  if (plan.trim() === 'auto') return 'auto';
  try {
    parsePlan(plan, earlyExitCount(manifest));
  } catch (err) {
    if (err instanceof PlanError) throw bad(`parameters.plan: ${err.message}`);
    throw err;
  }
  return plan.trim();
}

/**
 * Raw little-endian FP32 bytes as a fresh `Float32Array` of `count` values; 400 when the byte count
 * does not fit the shape, or a value is not finite (as for JSON values).
 */
export function fp32FromBytes(bytes: Uint8Array, count: number, name: string, shape: number[]): Float32Array {
  if (bytes.byteLength !== count * 4) {
    throw bad(`input '${echoText(name)}' has ${bytes.byteLength} bytes of binary data but shape ${shapeText(shape)} needs ${count * 4} (${count} FP32 values of 4 bytes)`);
  }
  const data = bufferToFloat32(bytes);
  // NaN and ±Infinity are the FP32 values whose exponent bits are all ones: one integer test per value.
  const bits = new Uint32Array(data.buffer, data.byteOffset, count);
  for (let i = 0; i < count; i++) {
    if ((bits[i] & 0x7f800000) === 0x7f800000) throw bad(`input '${echoText(name)}' value at index ${i} is ${String(data[i])}, not a finite number`);
  }
  return data;
}

/** A request body's model-independent structure (the shared InferRequest schema); 400 naming the first fault. */
export function checkRequest(body: unknown, manifest: Manifest): InferRequest {
  try {
    return checkInferRequest(body, { model: manifest.name, input: manifest.input.name, output: manifest.output.name });
  } catch (err) {
    if (err instanceof ContractError) throw bad(err.message);
    throw err;
  }
}

/**
 * Validate an Open Inference Protocol v2 request body against a model's manifest. Every refusal
 * names the problem; nothing that fails here reaches a worker.
 *
 * `rawInputs`, parallel to `body.inputs`, holds each input's raw little-endian bytes where they
 * came apart from the JSON (HTTP: the binary tensor data extension, see `decodeInferBody`; gRPC:
 * `raw_input_contents`); an input with raw bytes must not also have `data`.
 */
export function validateInferRequest(body: unknown, manifest: Manifest, rawInputs?: readonly (Uint8Array | undefined)[]): ValidInferRequest {
  return validateForModel(checkRequest(body, manifest), manifest, rawInputs);
}

/** What a checked request must also be for this model: its input, shape, values, plan and outputs. */
export function validateForModel(request: InferRequest, manifest: Manifest, rawInputs?: readonly (Uint8Array | undefined)[]): ValidInferRequest {
  const expected = manifest.input;
  const tensor = request.inputs[0];
  if (tensor.name !== expected.name) {
    throw bad(`unknown input '${echoText(tensor.name)}': model '${manifest.name}' takes one input named '${expected.name}'`);
  }
  if (tensor.datatype !== expected.datatype) {
    throw bad(`input '${expected.name}' has datatype ${echoValue(tensor.datatype)}; expected '${expected.datatype}'`);
  }

  const shape = tensor.shape;
  const expectedText = `[${expected.shape.join(',')}]`;
  if (shape.length !== expected.shape.length) {
    throw bad(`input '${expected.name}' shape ${shapeText(shape)} does not match the model's ${expectedText}`);
  }
  shape.forEach((d: number, i: number) => {
    if (expected.shape[i] !== -1 && d !== expected.shape[i]) {
      throw bad(`input '${expected.name}' shape ${shapeText(shape)} does not match the model's ${expectedText} at dimension ${i}`);
    }
  });
  if (shape[0] !== 1) throw bad(`batch size ${shape[0]} is not supported yet: send one sample per request (shape[0] = 1)`);

  const count = elementCount(shape);
  const raw = rawInputs?.[0];
  let data: Float32Array;
  if (raw !== undefined) {
    if (tensor.data !== undefined) throw bad(`input '${expected.name}' has binary data and "data" too: send one of them`);
    data = fp32FromBytes(raw, count, expected.name, shape);
  } else {
    if (tensor.parameters?.binary_data_size !== undefined && tensor.data === undefined) {
      throw bad(`input '${expected.name}' declares parameters.binary_data_size but no binary data came with the request`);
    }
    if (tensor.data === undefined) throw bad(`input '${expected.name}' needs "data": a flat, row-major array of numbers`);
    data = jsonValues(tensor.data, count, expected.name, shape);
  }

  const result: ValidInferRequest = { id: request.id, data, shape };
  if (request.parameters) Object.assign(result, parametersForModel(request.parameters, manifest));
  const binaryOutputs = binaryOutputsFor(request, manifest);
  if (binaryOutputs.length > 0) result.binaryOutputs = binaryOutputs;
  return result;
}

/** A shape as echoed in an error: `[1,1,28,28]`, capped. */
function shapeText(shape: readonly number[]): string {
  return `[${echoText(shape.join(','))}]`;
}

/** The FP32 range: a JSON number beyond it would be ±Infinity in the network. */
const FP32_MAX = 3.4028234663852886e38;

/**
 * `data` as FP32 values: a flat, row-major array of `count` numbers, or arrays nested exactly as
 * `shape` (one level per dimension, each of its dimension's length, leading 1s optional; no ragged
 * or deeper nesting).
 * Every value must be finite in FP32; the first that is not is named with its (flat) index.
 */
function jsonValues(values: unknown[], count: number, name: string, shape: number[]): Float32Array {
  const data = new Float32Array(count);
  // Why a value cannot be stored: named off the hot path, once a value fails the one test below.
  const refuse = (v: unknown, i: number): never => {
    if (Array.isArray(v)) {
      throw bad(`input '${name}' "data" must be flat or nested exactly as shape ${shapeText(shape)}: the value at index ${i} is an array`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`input '${name}' value at index ${i} is ${echoValue(v)}, not a finite number`);
    throw bad(`input '${name}' value at index ${i} is ${String(v)}, not a finite number in FP32 (|value| at most ${FP32_MAX})`);
  };
  // A number that is not finite, or beyond FP32's range, is not finite once stored.
  const put = (v: unknown, i: number) => {
    if (typeof v !== 'number') refuse(v, i);
    data[i] = v as number;
    if (!Number.isFinite(data[i])) refuse(v, i);
  };
  if (!Array.isArray(values[0])) {
    // Flat (the common case).
    if (values.length !== count) throw bad(`input '${name}' has ${values.length} values but shape ${shapeText(shape)} needs ${count}`);
    for (let i = 0; i < count; i++) put(values[i], i);
    return data;
  }
  // Nested: one level per dimension (leading dimensions of 1 may be left out: [[0, 0.5], [1, 0.25]]
  // for shape [1,2,2]). The depth is measured along the first entries, at most one level past the
  // model's rank, so a request nested 10,000 deep costs no recursion.
  let levels = 0;
  for (let v: unknown = values; Array.isArray(v) && levels <= shape.length; v = v[0]) levels++;
  const skipped = shape.length - levels;
  if (skipped < 0) throw bad(`input '${name}' "data" is nested deeper than its shape ${shapeText(shape)} (${shape.length} levels)`);
  if (shape.slice(0, skipped).some((d) => d !== 1)) {
    throw bad(`input '${name}' "data" is nested ${levels} levels deep: it must be flat or nested as shape ${shapeText(shape)} (${shape.length} levels)`);
  }
  let next = 0;
  const walk = (level: unknown[], depth: number, path: string): void => {
    if (level.length !== shape[depth]) {
      throw bad(`input '${name}' nested "data" must match shape ${shapeText(shape)} exactly: data${path} has ${level.length} entries, not ${shape[depth]}`);
    }
    const last = depth === shape.length - 1;
    for (let k = 0; k < level.length; k++) {
      const v = level[k];
      if (last) {
        if (Array.isArray(v)) throw bad(`input '${name}' "data" is nested deeper than its shape ${shapeText(shape)} (${shape.length} levels) at data${path}[${k}]`);
        put(v, next++);
      } else if (!Array.isArray(v)) {
        throw bad(`input '${name}' nested "data" must match shape ${shapeText(shape)} exactly: data${path}[${k}] is ${echoValue(v)}, not an array of ${shape[depth + 1]}`);
      } else {
        walk(v, depth + 1, `${path}[${k}]`);
      }
    }
  };
  walk(values, skipped, '');
  return data;
}

/**
 * Which requested outputs to answer as raw bytes (each must be a served output; 400 otherwise): an
 * output's `parameters.binary_data`, else the request's `parameters.binary_data_output`. No
 * `outputs` list (or an empty one) asks for every output.
 */
function binaryOutputsFor(request: InferRequest, manifest: Manifest): string[] {
  const binaryDefault = request.parameters?.binary_data_output ?? false;
  if (request.outputs === undefined || request.outputs.length === 0) return binaryDefault ? [manifest.output.name] : [];
  const binary: string[] = [];
  for (const o of request.outputs) {
    if (o.name !== manifest.output.name) {
      throw bad(`unknown output ${echoValue(o.name)}: model '${manifest.name}' outputs '${manifest.output.name}'`);
    }
    if ((o.parameters?.binary_data ?? binaryDefault) && !binary.includes(o.name)) binary.push(o.name);
  }
  return binary;
}

type RequestParameters = Pick<ValidInferRequest, 'plan' | 'threshold' | 'timeoutUs' | 'priority' | 'progressive'>;

/** The checked parameters the tasks carry; Triton's `timeout` and `priority` of 0 mean "none given", as in Triton. */
function parametersForModel(parameters: NonNullable<InferRequest['parameters']>, manifest: Manifest): RequestParameters {
  const out: RequestParameters = {};
  if (parameters.plan !== undefined) out.plan = validatePlan(parameters.plan, manifest);
  if (parameters.threshold !== undefined) out.threshold = parameters.threshold;
  if (parameters.timeout) out.timeoutUs = parameters.timeout;
  if (parameters.priority) out.priority = parameters.priority;
  if (parameters.progressive) out.progressive = true;
  return out;
}
