/** A value known at some CPU utilization levels. */
export interface LevelPoint {
  u: number;
  value: number;
}

/**
 * Linear interpolation over utilization between the two nearest known levels; outside the
 * measured range the nearest level's value is used (no extrapolation).
 */
export function interpolateOverUtilization(points: LevelPoint[], u: number): number {
  if (points.length === 0) throw new Error('no levels to interpolate between');
  const p = [...points].sort((a, b) => a.u - b.u);
  if (u <= p[0].u) return p[0].value;
  if (u >= p[p.length - 1].u) return p[p.length - 1].value;
  for (let i = 1; i < p.length; i++) {
    if (u <= p[i].u) {
      const a = p[i - 1];
      const b = p[i];
      if (b.u === a.u) return b.value;
      return a.value + ((u - a.u) / (b.u - a.u)) * (b.value - a.value);
    }
  }
  return p[p.length - 1].value;
}
