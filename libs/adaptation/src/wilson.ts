/**
 * Wilson score bounds of a proportion (successes out of n). One-sided at z: with z = 1.645 the
 * true share lies above the lower bound (or below the upper one) with about 95 % confidence.
 * Unlike the normal approximation it stays inside 0..1 and is honest at small n and at shares
 * near 1, which is where an agreement budget of 1 % lives.
 */

function wilsonInterval(successes: number, n: number, z: number): { center: number; half: number } {
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { center, half };
}

/** Lower Wilson bound of successes/n; 0 when n is 0 (nothing is known). */
export function wilsonLowerBound(successes: number, n: number, z: number): number {
  if (n <= 0) return 0;
  const { center, half } = wilsonInterval(successes, n, z);
  return Math.max(0, center - half);
}

/** Upper Wilson bound of successes/n; 1 when n is 0 (nothing is known). */
export function wilsonUpperBound(successes: number, n: number, z: number): number {
  if (n <= 0) return 1;
  const { center, half } = wilsonInterval(successes, n, z);
  return Math.min(1, center + half);
}
