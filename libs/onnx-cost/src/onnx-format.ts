import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';

/**
 * Reading ONNX files: the ONNX protobuf schema (onnx.proto, compiled to JavaScript by the
 * `onnx-proto` package on top of protobufjs) decodes a ModelProto; these helpers turn its int64
 * fields (protobufjs `Long`s) into numbers and read attributes and small constant tensors.
 */
export { onnx };

export type ModelProto = onnx.IModelProto;
export type NodeProto = onnx.INodeProto;
export type TensorProto = onnx.ITensorProto;

export const DataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;

/** A protobufjs int64 (number or Long) as a JavaScript number. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decode an ONNX model from a file path or from its bytes. */
export function readOnnxModel(source: string | Uint8Array): onnx.ModelProto {
  const bytes = typeof source === 'string' ? readFileSync(source) : source;
  return onnx.ModelProto.decode(bytes);
}

/** Bytes per element of an ONNX tensor data type (4 when unknown). */
export function elementSize(dataType: number | null | undefined): number {
  switch (dataType) {
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
    case DataType.COMPLEX64:
      return 8;
    case DataType.COMPLEX128:
      return 16;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.INT16:
    case DataType.UINT16:
      return 2;
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL:
      return 1;
    default:
      return 4;
  }
}

/** A node attribute's value in plain JavaScript (ints as numbers, strings decoded). */
export type AttributeValue = number | string | number[] | string[] | onnx.ITensorProto | undefined;

export function attributeValue(attr: onnx.IAttributeProto): AttributeValue {
  switch (attr.type) {
    case AttributeType.FLOAT:
      return attr.f ?? 0;
    case AttributeType.INT:
      return toNumber(attr.i);
    case AttributeType.STRING:
      return Buffer.from(attr.s ?? new Uint8Array()).toString('utf8');
    case AttributeType.FLOATS:
      return [...(attr.floats ?? [])];
    case AttributeType.INTS:
      return (attr.ints ?? []).map(toNumber);
    case AttributeType.STRINGS:
      return (attr.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
    case AttributeType.TENSOR:
      return attr.t ?? undefined;
    default:
      return undefined;
  }
}

/** A node's attributes by name. */
export function nodeAttributes(node: onnx.INodeProto): Map<string, AttributeValue> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', attributeValue(a)]));
}

/** Dimensions of a tensor proto as numbers. */
export function tensorDims(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

const MAX_VALUE_ELEMENTS = 1 << 16;

/**
 * The values of a numeric tensor (from raw_data or the typed fields) as numbers, for the small
 * constants shape inference needs (Reshape shapes, Pad pads, Resize scales, axes). Undefined for
 * large tensors or types it does not read.
 */
export function tensorValues(t: onnx.ITensorProto): number[] | undefined {
  const count = tensorDims(t).reduce((a, b) => a * b, 1);
  if (count > MAX_VALUE_ELEMENTS) return undefined;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const type = t.dataType ?? DataType.FLOAT;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    const size = elementSize(type);
    for (let i = 0; i < raw.byteLength / size; i++) {
      const o = i * size;
      switch (type) {
        case DataType.FLOAT: out.push(view.getFloat32(o, true)); break;
        case DataType.DOUBLE: out.push(view.getFloat64(o, true)); break;
        case DataType.INT64: out.push(Number(view.getBigInt64(o, true))); break;
        case DataType.UINT64: out.push(Number(view.getBigUint64(o, true))); break;
        case DataType.INT32: out.push(view.getInt32(o, true)); break;
        case DataType.UINT32: out.push(view.getUint32(o, true)); break;
        case DataType.INT16: out.push(view.getInt16(o, true)); break;
        case DataType.UINT16: out.push(view.getUint16(o, true)); break;
        case DataType.INT8: out.push(view.getInt8(o)); break;
        case DataType.UINT8: case DataType.BOOL: out.push(view.getUint8(o)); break;
        default: return undefined;
      }
    }
    return out;
  }
  if (t.floatData && t.floatData.length) return [...t.floatData];
  if (t.int64Data && t.int64Data.length) return t.int64Data.map(toNumber);
  if (t.int32Data && t.int32Data.length) return [...t.int32Data];
  if (t.doubleData && t.doubleData.length) return [...t.doubleData];
  if (t.uint64Data && t.uint64Data.length) return t.uint64Data.map(toNumber);
  return count === 0 ? [] : undefined;
}
