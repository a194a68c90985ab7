"use strict";
var __spreadArray = (this && this.__spreadArray) || function (to, from, pack) {
    if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) {
        if (ar || !(i in from)) {
            if (!ar) ar = Array.prototype.slice.call(from, 0, i);
            ar[i] = from[i];
        }
    }
    return to.concat(ar || Array.prototype.slice.call(from));
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.AttributeType = exports.DataType = exports.onnx = void 0;
exports.toNumber = toNumber;
exports.readOnnxModel = readOnnxModel;
exports.elementSize = elementSize;
exports.attributeValue = attributeValue;
exports.nodeAttributes = nodeAttributes;
exports.tensorDims = tensorDims;
exports.tensorValues = tensorValues;
var node_fs_1 = require("node:fs");
var onnx_proto_1 = require("onnx-proto");
Object.defineProperty(exports, "onnx", { enumerable: true, get: function () { return onnx_proto_1.onnx; } });
exports.DataType = onnx_proto_1.onnx.TensorProto.DataType;
exports.AttributeType = onnx_proto_1.onnx.AttributeProto.AttributeType;
/** A protobufjs int64 (number or Long) as a JavaScript number. */
function toNumber(v) {
    if (v === null || v === undefined)
        return 0;
    return typeof v === 'number' ? v : v.toNumber();
}
/** Decode an ONNX model from a file path or from its bytes. */
function readOnnxModel(source) {
    var bytes = typeof source === 'string' ? (0, node_fs_1.readFileSync)(source) : source;
    return onnx_proto_1.onnx.ModelProto.decode(bytes);
}
/** Bytes per element of an ONNX tensor data type (4 when unknown). */
function elementSize(dataType) {
    switch (dataType) {
        case exports.DataType.DOUBLE:
        case exports.DataType.INT64:
        case exports.DataType.UINT64:
        case exports.DataType.COMPLEX64:
            return 8;
        case exports.DataType.COMPLEX128:
            return 16;
        case exports.DataType.FLOAT16:
        case exports.DataType.BFLOAT16:
        case exports.DataType.INT16:
        case exports.DataType.UINT16:
            return 2;
        case exports.DataType.INT8:
        case exports.DataType.UINT8:
        case exports.DataType.BOOL:
            return 1;
        default:
            return 4;
    }
}
function attributeValue(attr) {
    var _a, _b, _c, _d, _e, _f;
    switch (attr.type) {
        case exports.AttributeType.FLOAT:
            return (_a = attr.f) !== null && _a !== void 0 ? _a : 0;
        case exports.AttributeType.INT:
            return toNumber(attr.i);
        case exports.AttributeType.STRING:
            return Buffer.from((_b = attr.s) !== null && _b !== void 0 ? _b : new Uint8Array()).toString('utf8');
        case exports.AttributeType.FLOATS:
            return __spreadArray([], ((_c = attr.floats) !== null && _c !== void 0 ? _c : []), true);
        case exports.AttributeType.INTS:
            return ((_d = attr.ints) !== null && _d !== void 0 ? _d : []).map(toNumber);
        case exports.AttributeType.STRINGS:
            return ((_e = attr.strings) !== null && _e !== void 0 ? _e : []).map(function (s) { return Buffer.from(s).toString('utf8'); });
        case exports.AttributeType.TENSOR:
            return (_f = attr.t) !== null && _f !== void 0 ? _f : undefined;
        default:
            return undefined;
    }
}
/** A node's attributes by name. */
function nodeAttributes(node) {
    var _a;
    return new Map(((_a = node.attribute) !== null && _a !== void 0 ? _a : []).map(function (a) { var _a; return [(_a = a.name) !== null && _a !== void 0 ? _a : '', attributeValue(a)]; }));
}
/** Dimensions of a tensor proto as numbers. */
function tensorDims(t) {
    var _a;
    return ((_a = t.dims) !== null && _a !== void 0 ? _a : []).map(toNumber);
}
var MAX_VALUE_ELEMENTS = 1 << 16;
/**
 * The values of a numeric tensor (from raw_data or the typed fields) as numbers, for the small
 * constants shape inference needs (Reshape shapes, Pad pads, Resize scales, axes). Undefined for
 * large tensors or types it does not read.
 */
function tensorValues(t) {
    var _a;
    var count = tensorDims(t).reduce(function (a, b) { return a * b; }, 1);
    if (count > MAX_VALUE_ELEMENTS)
        return undefined;
    var raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
    var type = (_a = t.dataType) !== null && _a !== void 0 ? _a : exports.DataType.FLOAT;
    if (raw) {
        var view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        var out = [];
        var size = elementSize(type);
        for (var i = 0; i < raw.byteLength / size; i++) {
            var o = i * size;
            switch (type) {
                case exports.DataType.FLOAT:
                    out.push(view.getFloat32(o, true));
                    break;
                case exports.DataType.DOUBLE:
                    out.push(view.getFloat64(o, true));
                    break;
                case exports.DataType.INT64:
                    out.push(Number(view.getBigInt64(o, true)));
                    break;
                case exports.DataType.UINT64:
                    out.push(Number(view.getBigUint64(o, true)));
                    break;
                case exports.DataType.INT32:
                    out.push(view.getInt32(o, true));
                    break;
                case exports.DataType.UINT32:
                    out.push(view.getUint32(o, true));
                    break;
                case exports.DataType.INT16:
                    out.push(view.getInt16(o, true));
                    break;
                case exports.DataType.UINT16:
                    out.push(view.getUint16(o, true));
                    break;
                case exports.DataType.INT8:
                    out.push(view.getInt8(o));
                    break;
                case exports.DataType.UINT8:
                case exports.DataType.BOOL:
                    out.push(view.getUint8(o));
                    break;
                default: return undefined;
            }
        }
        return out;
    }
    if (t.floatData && t.floatData.length)
        return __spreadArray([], t.floatData, true);
    if (t.int64Data && t.int64Data.length)
        return t.int64Data.map(toNumber);
    if (t.int32Data && t.int32Data.length)
        return __spreadArray([], t.int32Data, true);
    if (t.doubleData && t.doubleData.length)
        return __spreadArray([], t.doubleData, true);
    if (t.uint64Data && t.uint64Data.length)
        return t.uint64Data.map(toNumber);
    return count === 0 ? [] : undefined;
}
