import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manifest } from '@outlet/model-package';

/** One labelled request of the benchmark: pixels laid out as the model's input, batch 1. */
export interface LabelledRequest {
  label: number;
  pixels: Float32Array;
}

const MNIST_SIDE = 28;

function digitsOfClass(label: number): number[] {
  const path = join(require.resolve('mnist/package.json'), '..', 'src', 'digits', `${label}.json`);
  return JSON.parse(readFileSync(path, 'utf8')).data;
}

/** Nearest-neighbour upscaling of a square image by an integer factor: out[y][x] = in[floor(y/f)][floor(x/f)]. */
export function upscaleNearest(image: ArrayLike<number>, side: number, factor: number): Float32Array {
  const outSide = side * factor;
  const out = new Float32Array(outSide * outSide);
  for (let y = 0; y < outSide; y++) {
    for (let x = 0; x < outSide; x++) out[y * outSide + x] = image[Math.floor(y / factor) * side + Math.floor(x / factor)];
  }
  return out;
}

/**
 * `count` held-out digits of the mnist package (sample i of a class file with i % 5 == 4), ten
 * classes in turn, upscaled by nearest-neighbour replication to the model's input size
 * (out[y][x] = in[floor(y/f)][floor(x/f)], as branchy-bench was trained).
 */
export function heldOutRequests(manifest: Manifest, count: number): LabelledRequest[] {
  const [, channels, height, width] = manifest.input.shape;
  if (channels !== 1 || height !== width || height % MNIST_SIDE !== 0) {
    throw new Error(`${manifest.name}: input ${JSON.stringify(manifest.input.shape)} is not a 1-channel multiple of 28x28`);
  }
  const factor = height / MNIST_SIDE;
  const classes = Array.from({ length: 10 }, (_, d) => digitsOfClass(d));
  const requests: LabelledRequest[] = [];
  for (let k = 0; k < count; k++) {
    const label = k % 10;
    const index = Math.floor(k / 10) * 5 + 4;
    const source = classes[label].slice(index * 784, (index + 1) * 784);
    if (source.length < 784) throw new Error(`the mnist package has too few held-out digits of class ${label} for ${count} requests`);
    requests.push({ label, pixels: upscaleNearest(source, MNIST_SIDE, factor) });
  }
  return requests;
}
