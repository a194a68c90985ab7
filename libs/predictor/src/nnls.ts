/**
 * Non-negative least squares (Lawson & Hanson, 1974): minimize ||A·x − b|| subject to x ≥ 0.
 * A is given by rows; sizes here are small (tens to hundreds of rows, a handful of columns).
 */
export function nnls(rows: number[][], b: number[], maxIterations = 500): number[] {
  const n = rows[0]?.length ?? 0;
  if (n === 0) return [];
  // Scale columns to unit norm so FLOPs (1e8) and constants (1) are comparable; unscale at the end.
  const scale = Array.from({ length: n }, (_, j) => Math.sqrt(rows.reduce((s, r) => s + r[j] * r[j], 0)) || 1);
  const A = rows.map((r) => r.map((v, j) => v / scale[j]));
  const x = new Array(n).fill(0);
  const passive = new Array<boolean>(n).fill(false);
  const tol = 1e-12 * Math.max(1, Math.sqrt(b.reduce((s, v) => s + v * v, 0)));

  const gradient = () => {
    const r = A.map((row, i) => b[i] - row.reduce((s, v, j) => s + v * x[j], 0));
    return Array.from({ length: n }, (_, j) => A.reduce((s, row, i) => s + row[j] * r[i], 0));
  };

  for (let iter = 0; iter < maxIterations; iter++) {
    const w = gradient();
    let best = -1;
    for (let j = 0; j < n; j++) if (!passive[j] && w[j] > tol && (best < 0 || w[j] > w[best])) best = j;
    if (best < 0) break;
    passive[best] = true;
    for (let inner = 0; inner < maxIterations; inner++) {
      const idx = passive.map((p, j) => (p ? j : -1)).filter((j) => j >= 0);
      const z = leastSquares(A.map((row) => idx.map((j) => row[j])), b);
      const zFull = new Array(n).fill(0);
      idx.forEach((j, k) => (zFull[j] = z[k]));
      if (idx.every((j) => zFull[j] > 0)) {
        for (let j = 0; j < n; j++) x[j] = zFull[j];
        break;
      }
      // Step back towards x until a passive variable hits zero, and drop it.
      let alpha = 1;
      for (const j of idx) if (zFull[j] <= 0) alpha = Math.min(alpha, x[j] / (x[j] - zFull[j]));
      for (let j = 0; j < n; j++) x[j] += alpha * (zFull[j] - x[j]);
      for (const j of idx) if (x[j] <= 1e-15) {
        x[j] = 0;
        passive[j] = false;
      }
    }
  }
  return x.map((v, j) => v / scale[j]);
}

/** Unconstrained least squares by the normal equations with a tiny ridge (columns pre-scaled). */
export function leastSquares(A: number[][], b: number[]): number[] {
  const n = A[0]?.length ?? 0;
  const M = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => A.reduce((s, r) => s + r[i] * r[j], 0) + (i === j ? 1e-10 : 0)));
  const v = Array.from({ length: n }, (_, i) => A.reduce((s, r, k) => s + r[i] * b[k], 0));
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    [v[c], v[p]] = [v[p], v[c]];
    const d = M[c][c] || 1e-300;
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / d;
      for (let k = c; k < n; k++) M[r][k] -= f * M[c][k];
      v[r] -= f * v[c];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = v[r];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / (M[r][r] || 1e-300);
  }
  return x;
}
