import { upscaleNearest } from '@outlet/bench';

export { heldOutDigit } from '@outlet/bench';

export function inferBody(pixels: number[], parameters?: Record<string, unknown>, id?: string) {
  return {
    id,
    inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: pixels }],
    parameters,
  };
}

/** A 28×28 digit as branchy-bench takes it: upscaled ×4 to 1×1×112×112. */
export function benchInferBody(pixels: number[], parameters?: Record<string, unknown>) {
  return { inputs: [{ name: 'input', shape: [1, 1, 112, 112], datatype: 'FP32', data: Array.from(upscaleNearest(pixels, 28, 4)) }], parameters };
}
