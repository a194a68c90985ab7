/** FP32 tensors as raw little-endian bytes (Redis values) or base64 (inside JSON jobs). */

export function float32ToBuffer(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export function bufferToFloat32(bytes: Buffer): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new Error(`feature of ${bytes.byteLength} bytes is not a whole number of FP32 values`);
  }
  // Copy into a fresh, aligned buffer: a Buffer's byteOffset may not be a multiple of 4.
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

export function float32ToBase64(values: Float32Array | number[]): string {
  const array = values instanceof Float32Array ? values : Float32Array.from(values);
  return float32ToBuffer(array).toString('base64');
}

export function base64ToFloat32(text: string): Float32Array {
  return bufferToFloat32(Buffer.from(text, 'base64'));
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
