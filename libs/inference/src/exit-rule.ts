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
