/** A latency CDF chart as a standalone SVG: one panel per scenario, one line per strategy. */
export interface CdfSeries {
  name: string;
  valuesMs: number[];
}

export interface CdfPanel {
  title: string;
  series: CdfSeries[];
}

/** Line colours of the project's charts, in series order. */
export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
const W = 520;
const H = 360;
const M = { left: 60, right: 20, top: 40, bottom: 50 };

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(p: CdfPanel, offsetX: number): string {
  const all = p.series.flatMap((s) => s.valuesMs);
  const maxX = Math.max(1, ...all) * 1.05;
  const x = (v: number) => offsetX + M.left + (v / maxX) * (W - M.left - M.right);
  const y = (q: number) => M.top + (1 - q) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<text x="${offsetX + W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(p.title)}</text>`);
  parts.push(`<rect x="${x(0)}" y="${y(1)}" width="${x(maxX) - x(0)}" height="${y(0) - y(1)}" fill="none" stroke="#888"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (maxX / 5) * i;
    parts.push(`<line x1="${x(v)}" y1="${y(0)}" x2="${x(v)}" y2="${y(0) + 5}" stroke="#888"/>`);
    parts.push(`<text x="${x(v)}" y="${y(0) + 18}" text-anchor="middle" font-size="11">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
    const q = i / 5;
    parts.push(`<line x1="${x(0) - 5}" y1="${y(q)}" x2="${x(maxX)}" y2="${y(q)}" stroke="#eee"/>`);
    parts.push(`<text x="${x(0) - 8}" y="${y(q) + 4}" text-anchor="end" font-size="11">${q.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${offsetX + W / 2}" y="${H - 10}" text-anchor="middle" font-size="12">latency (ms)</text>`);
  parts.push(`<text x="${offsetX + 16}" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${offsetX + 16} ${H / 2})">fraction of requests</text>`);
  p.series.forEach((s, i) => {
    const sorted = [...s.valuesMs].sort((a, b) => a - b);
    const points = sorted.map((v, k) => `${x(v).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
    const color = COLORS[i % COLORS.length];
    if (points.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${x(sorted[0]).toFixed(1)},${y(0)} ${points.join(' ')}"/>`);
    parts.push(`<line x1="${x(maxX) - 120}" y1="${y(0) - 80 - i * 16}" x2="${x(maxX) - 100}" y2="${y(0) - 80 - i * 16}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${x(maxX) - 95}" y="${y(0) - 76 - i * 16}" font-size="12">${escape(s.name)}</text>`);
  });
  return parts.join('\n');
}

export function cdfChartSvg(panels: CdfPanel[]): string {
  return panelsSvg(panels.map((p, i) => panel(p, i * W)), W, H);
}

/** Panels of `panelWidth` × `height` side by side in one SVG document on white. */
export function panelsSvg(panels: string[], panelWidth: number, height: number): string {
  return svgDocument(panels, panelWidth * panels.length, height);
}

/** One SVG document of `width` × `height` on white holding `parts` (placed already). */
export function svgDocument(parts: string[], width: number, height: number): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    '</svg>',
  ].join('\n');
}
