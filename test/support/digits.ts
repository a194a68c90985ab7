export { heldOutDigit } from '@outlet/bench';

export function inferBody(pixels: number[], parameters?: Record<string, unknown>, id?: string) {
  return {
    id,
    inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: pixels }],
    parameters,
  };
}
