/** FP32 tensors as raw little-endian bytes (Redis values, shared-memory files). */

export function float32ToBuffer(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export function bufferToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new Error(`feature of ${bytes.byteLength} bytes is not a whole number of FP32 values`);
  }
  // Copy into a fresh, aligned buffer: a Buffer's byteOffset may not be a multiple of 4. Every
  // Outlet process reads FP32 in its host's order, little-endian on the platforms it runs on.
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
