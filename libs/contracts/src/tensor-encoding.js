"use strict";
/** FP32 tensors as raw little-endian bytes (Redis values) or base64 (inside JSON jobs). */
Object.defineProperty(exports, "__esModule", { value: true });
exports.float32ToBuffer = float32ToBuffer;
exports.bufferToFloat32 = bufferToFloat32;
exports.float32ToBase64 = float32ToBase64;
exports.base64ToFloat32 = base64ToFloat32;
exports.elementCount = elementCount;
function float32ToBuffer(values) {
    return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}
function bufferToFloat32(bytes) {
    if (bytes.byteLength % 4 !== 0) {
        throw new Error("feature of ".concat(bytes.byteLength, " bytes is not a whole number of FP32 values"));
    }
    // Copy into a fresh, aligned buffer: a Buffer's byteOffset may not be a multiple of 4.
    var copy = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(copy.buffer).set(bytes);
    return copy;
}
function float32ToBase64(values) {
    var array = values instanceof Float32Array ? values : Float32Array.from(values);
    return float32ToBuffer(array).toString('base64');
}
function base64ToFloat32(text) {
    return bufferToFloat32(Buffer.from(text, 'base64'));
}
function elementCount(shape) {
    return shape.reduce(function (n, d) { return n * d; }, 1);
}
