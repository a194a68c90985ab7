import { Manifest } from '@outlet/model-package';
import { MNIST_PIXELS, MNIST_SIDE, heldOutDigit, upscaleNearest } from './mnist';

/** One labelled request of the benchmark: pixels laid out as the model's input, batch 1. */
export interface LabelledRequest {
  label: number;
  pixels: Float32Array;
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
  const requests: LabelledRequest[] = [];
  for (let k = 0; k < count; k++) {
    const label = k % 10;
    const source = heldOutDigit(label, Math.floor(k / 10));
    if (source.length < MNIST_PIXELS) throw new Error(`the mnist package has too few held-out digits of class ${label} for ${count} requests`);
    requests.push({ label, pixels: upscaleNearest(source, MNIST_SIDE, factor) });
  }
  return requests;
}
