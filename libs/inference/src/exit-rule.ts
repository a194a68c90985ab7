/** The exit rule: a head is confident when its max softmax probability reaches the threshold. */

export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function maxProbability(probabilities: ArrayLike<number>): number {
  if (probabilities.length === 0) throw new Error('an exit head returned no probabilities');
  return probabilities[argMax(probabilities)];
}

export function isConfident(probabilities: ArrayLike<number>, threshold: number): boolean {
  return maxProbability(probabilities) >= threshold;
}

/** The index of the first value that is NaN or ±Infinity; -1 when every value is finite. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * An exit head's output that is not finite (NaN or ±Infinity, e.g. an input near the FP32 limit
 * that overflows inside the network): it must never be answered (it would read as `null`s).
 */
export class NonFiniteOutputError extends Error {}

/** Why an exit's output must not be answered (naming the exit and the first bad value), or undefined when every probability is finite. */
export function nonFiniteOutputProblem(probabilities: ArrayLike<number>, exitIndex: number, model?: string): string | undefined {
  const i = firstNonFinite(probabilities);
  if (i < 0) return undefined;
  const of = model === undefined ? '' : ` of model '${model}'`;
  return `exit ${exitIndex}${of} returned a non-finite output (${String(probabilities[i])} at index ${i}); the input may be out of the range the model can compute in FP32`;
}

/** Throws NonFiniteOutputError (see nonFiniteOutputProblem) unless every probability is finite. */
export function checkFiniteOutput(probabilities: ArrayLike<number>, exitIndex: number, model?: string): void {
  const problem = nonFiniteOutputProblem(probabilities, exitIndex, model);
  if (problem) throw new NonFiniteOutputError(problem);
}
