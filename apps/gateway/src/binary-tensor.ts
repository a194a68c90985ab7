/**
 * The Open Inference Protocol's binary tensor data extension (KServe / Triton), as pure functions:
 * a request body is a JSON header of `Inference-Header-Content-Length` bytes followed by the raw,
 * little-endian bytes of every input whose `parameters.binary_data_size` says so, in input order;
 * a response is framed the same way. Every malformed framing is a 400 `RequestError` naming it.
 */
import { Manifest } from '@outlet/model-package';
import { INFERENCE_HEADER_CONTENT_LENGTH, InferRequest, echoText, echoValue } from '@outlet/contracts';
import { RequestError, ValidInferRequest, checkRequest, validateForModel } from './inference-request';

const bad = (message: string) => new RequestError(400, message);

/** Parse a JSON text as a request body; a syntax error is 400 "malformed JSON body: ...". Empty is `{}`. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad(`malformed JSON body: ${echoText((err as Error).message, 200)}`);
  }
}

/**
 * Split a (decoded) request body into its JSON header and the binary bytes after it.
 * `headerLength` is the `Inference-Header-Content-Length` header's value; without it the whole body
 * is JSON and `binary` is undefined.
 */
export function splitInferenceBody(body: Buffer, headerLength: string | undefined): { json: unknown; binary?: Buffer } {
  if (headerLength === undefined) return { json: parseJsonBody(body.toString('utf8')) };
  const text = headerLength.trim();
  if (!/^\d+$/.test(text)) throw bad(`${INFERENCE_HEADER_CONTENT_LENGTH} must be a non-negative integer, not ${echoValue(headerLength)}`);
  const length = Number(text);
  if (length > body.byteLength) {
    throw bad(`${INFERENCE_HEADER_CONTENT_LENGTH} is ${length} but the body has only ${body.byteLength} bytes`);
  }
  return { json: parseJsonBody(body.subarray(0, length).toString('utf8')), binary: body.subarray(length) };
}

/**
 * Cut the binary part of a request into one `Buffer` per input (undefined for JSON inputs), in the
 * order of `inputs`, checking that the declared `binary_data_size`s add up to exactly the bytes
 * given. `binary` undefined means the body had no `Inference-Header-Content-Length` header.
 */
export function sliceBinaryInputs(request: InferRequest, binary: Buffer | undefined): (Buffer | undefined)[] {
  const sizes = request.inputs.map((input) => input.parameters?.binary_data_size);
  const declared = sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0);
  const binaryCount = sizes.filter((s) => s !== undefined).length;
  if (binary === undefined) {
    if (binaryCount > 0) {
      throw bad(`an input has parameters.binary_data_size but the request has no ${INFERENCE_HEADER_CONTENT_LENGTH} header: send the JSON's length in it and the bytes after the JSON`);
    }
    return sizes.map(() => undefined);
  }
  if (declared !== binary.byteLength) {
    throw bad(
      `the inputs' binary_data_size add up to ${declared} bytes but ${binary.byteLength} bytes follow the ${INFERENCE_HEADER_CONTENT_LENGTH} JSON header` +
        (declared > binary.byteLength ? ' (truncated binary data?)' : ''),
    );
  }
  let offset = 0;
  return sizes.map((size) => {
    if (size === undefined) return undefined;
    const part = binary.subarray(offset, offset + size);
    offset += size;
    return part;
  });
}

/**
 * An HTTP infer request body (already decoded from any Content-Encoding) to the validated request
 * the InferenceService runs: JSON, or a JSON header of `headerLength` bytes with binary inputs after
 * it. Every refusal is a 400 naming the problem.
 */
export function decodeInferBody(body: Buffer, headerLength: string | undefined, manifest: Manifest): ValidInferRequest {
  const { json, binary } = splitInferenceBody(body, headerLength);
  return decodeInferRequest(json, binary, manifest);
}

/** The JSON part of a request (parsed) and the bytes after it (undefined: none) to a validated request. */
export function decodeInferRequest(json: unknown, binary: Buffer | undefined, manifest: Manifest): ValidInferRequest {
  const request = checkRequest(json, manifest);
  return validateForModel(request, manifest, sliceBinaryInputs(request, binary));
}

/** FP32 values as little-endian bytes. */
export function fp32ToBytes(values: ArrayLike<number>): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

/** A framed body: the JSON header, then `tensors` back to back; `headerLength` for the HTTP header. */
export function frameBinaryBody(header: unknown, tensors: Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.byteLength };
}

/** A response tensor as JSON (`data`) or as binary (`parameters.binary_data_size`, bytes separate). */
export interface OipOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
  parameters?: Record<string, unknown>;
}

/**
 * Encode an OIP response: outputs named in `binaryOutputs` leave `data` for raw FP32 bytes after
 * the JSON. Without any, `binary` is undefined and the response is plain JSON.
 */
export function encodeInferResponse<R extends { outputs: OipOutputTensor[] }>(
  response: R,
  binaryOutputs: ReadonlySet<string>,
): { json: Omit<R, 'outputs'> & { outputs: OipOutputTensor[] }; binary?: { body: Buffer; headerLength: number } } {
  if (!response.outputs.some((o) => binaryOutputs.has(o.name))) return { json: response };
  const tensors: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    if (!binaryOutputs.has(o.name)) return o;
    const bytes = fp32ToBytes(o.data ?? []);
    tensors.push(bytes);
    const { data: _data, ...rest } = o;
    return { ...rest, parameters: { ...(o.parameters ?? {}), binary_data_size: bytes.byteLength } };
  });
  const header = { ...response, outputs };
  return { json: header, binary: frameBinaryBody(header, tensors) };
}

/**
 * Split a framed response (for clients and tests): the JSON header and each binary output's values,
 * by name, cut in output order by their `binary_data_size`.
 */
export function decodeInferResponse(body: Buffer, headerLength: number | undefined): { json: any; tensors: Map<string, Float32Array> } {
  const tensors = new Map<string, Float32Array>();
  if (headerLength === undefined) return { json: JSON.parse(body.toString('utf8')), tensors };
  const json = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  let offset = headerLength;
  for (const o of json.outputs ?? []) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    const bytes = body.subarray(offset, offset + size);
    if (bytes.byteLength !== size) throw new Error(`output '${o.name}' is truncated: ${bytes.byteLength} of ${size} bytes`);
    const values = new Float32Array(size / 4);
    for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
    tensors.set(o.name, values);
    offset += size;
  }
  if (offset !== body.byteLength) throw new Error(`${body.byteLength - offset} bytes after the last binary output`);
  return { json, tensors };
}
