/**
 * Requests built as `tritonclient.http` builds them: a JSON body with no content-type, inputs as
 * binary tensor data (`binary_data_size`, raw FP32 after the JSON, `Inference-Header-Content-Length`),
 * outputs asked for as binary, optionally gzip/deflate bodies; and responses read as it reads them.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { decodeInferResponse, fp32ToBytes } from '../../apps/gateway/src/binary-tensor';

export interface TritonRequestOptions {
  /** Send the input as binary tensor data (tritonclient's default) rather than JSON `data`. */
  binaryInput?: boolean;
  /** `outputs: [{name, parameters: {binary_data}}]`; undefined leaves the outputs list out. */
  binaryOutput?: boolean;
  /** Request parameter `binary_data_output` (what tritonclient sends when no outputs are named). */
  binaryDataOutput?: boolean;
  parameters?: Record<string, unknown>;
  id?: string;
  compression?: 'gzip' | 'deflate';
}

export interface WireRequest {
  body: Buffer;
  headers: Record<string, string>;
}

export function tritonRequest(pixels: ArrayLike<number>, o: TritonRequestOptions = {}, inputName = 'input', outputName = 'probabilities'): WireRequest {
  const bytes = fp32ToBytes(Float32Array.from(pixels));
  const input: Record<string, unknown> = { name: inputName, shape: [1, 1, 28, 28], datatype: 'FP32' };
  if (o.binaryInput) input.parameters = { binary_data_size: bytes.byteLength };
  else input.data = Array.from(pixels);
  const header: Record<string, unknown> = { inputs: [input] };
  if (o.id !== undefined) header.id = o.id;
  if (o.binaryOutput !== undefined) header.outputs = [{ name: outputName, parameters: { binary_data: o.binaryOutput } }];
  const parameters = { ...(o.parameters ?? {}), ...(o.binaryDataOutput !== undefined ? { binary_data_output: o.binaryDataOutput } : {}) };
  if (Object.keys(parameters).length > 0) header.parameters = parameters;
  const json = Buffer.from(JSON.stringify(header));
  const headers: Record<string, string> = {};
  let body = json;
  if (o.binaryInput) {
    body = Buffer.concat([json, bytes]);
    headers['Inference-Header-Content-Length'] = String(json.byteLength);
  }
  if (o.compression) {
    body = o.compression === 'gzip' ? gzipSync(body) : deflateSync(body);
    headers['Content-Encoding'] = o.compression;
  }
  return { body, headers };
}

export interface WireResponse {
  status: number;
  headers: Headers;
  /** The JSON part (the whole body when not framed). */
  json: any;
  /** Binary outputs' values by name. */
  tensors: Map<string, Float32Array>;
}

/** POST raw bytes (no content-type unless given) and read the answer as tritonclient does. */
export async function postRaw(url: string, req: WireRequest): Promise<WireResponse> {
  const res = await fetch(url, { method: 'POST', body: req.body, headers: req.headers });
  const body = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const { json, tensors } = decodeInferResponse(body, headerLength === null ? undefined : Number(headerLength));
  return { status: res.status, headers: res.headers, json, tensors };
}

/** An answer's output values, whether they came as JSON `data` or as binary. */
export function outputValues(res: WireResponse, name = 'probabilities'): number[] {
  const binary = res.tensors.get(name);
  if (binary) return Array.from(binary);
  const output = res.json.outputs.find((o: { name: string }) => o.name === name);
  return output.data;
}
