import { PlannerError } from './stage-times';

/**
 * What the planner knows about when exits fire.
 *
 * - `empirical` (preferred; used whenever calibration's per-sample matrix is available): the
 *   distinct patterns of confident early exits seen on calibration data, with their weights
 *   (share of samples). Each sample's timeline is replayed exactly, which keeps the correlation
 *   between exits (a digit that is easy at exit 1 is easy at exit 2) and the race between a
 *   branch head and the trunk's later work.
 * - `formula` (fallback, the formula): exit i fires with probability
 *   p_i · Π(1 − p_j) over the earlier *evaluated* exits j, where p_i is exit i's conditional exit
 *   probability from calibration (the share of samples reaching exit i that leave there).
 *   "Earlier" means earlier answer time, which is exit order except where a branch head loses
 *   the race to later trunk work; exits are taken as independent.
 */
export type ExitStatistics =
  | { mode: 'empirical'; earlyExits: number; patterns: { mask: number; weight: number }[] }
  | { mode: 'formula'; earlyExits: number; p: number[] };

const MAX_EMPIRICAL_EXITS = 30;

/**
 * Empirical statistics from a per-sample matrix: `confident[s][i]` for sample s and early exit i
 * (a column for the final exit, if present, is ignored: it always answers).
 */
export function empiricalStatistics(confident: readonly (readonly boolean[])[], earlyExits: number): ExitStatistics {
  if (earlyExits > MAX_EMPIRICAL_EXITS) throw new PlannerError(`empirical statistics support up to ${MAX_EMPIRICAL_EXITS} early exits`);
  if (confident.length === 0) throw new PlannerError('the confident matrix has no samples');
  const counts = new Map<number, number>();
  confident.forEach((row, s) => {
    if (row.length < earlyExits) throw new PlannerError(`confident matrix row ${s} has ${row.length} entries, fewer than ${earlyExits} early exits`);
    let mask = 0;
    for (let i = 0; i < earlyExits; i++) if (row[i]) mask |= 1 << i;
    counts.set(mask, (counts.get(mask) ?? 0) + 1);
  });
  const patterns = [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([mask, count]) => ({ mask, weight: count / confident.length }));
  return { mode: 'empirical', earlyExits, patterns };
}

/** Formula statistics from conditional exit probabilities (one per early exit, 0..1). */
export function formulaStatistics(p: readonly number[]): ExitStatistics {
  p.forEach((v, i) => {
    if (!(v >= 0 && v <= 1)) throw new PlannerError(`exit probability p[${i}] must be from 0 to 1 (got ${v})`);
  });
  return { mode: 'formula', earlyExits: p.length, p: [...p] };
}

/**
 * Conditional exit probabilities from a confident matrix, evaluating every exit in order: p_i =
 * share of the samples not confident at exits 0..i-1 that are confident at i (0 when none reach).
 */
export function conditionalExitProbabilities(confident: readonly (readonly boolean[])[], earlyExits: number): number[] {
  const p: number[] = [];
  let reaching = confident.map((_, s) => s);
  for (let i = 0; i < earlyExits; i++) {
    const leave = reaching.filter((s) => confident[s][i]);
    p.push(reaching.length ? leave.length / reaching.length : 0);
    reaching = reaching.filter((s) => !confident[s][i]);
  }
  return p;
}
