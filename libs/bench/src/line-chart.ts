import { COLORS, escape, panelsSvg } from './cdf-chart';
/** Time-series charts as a standalone SVG: panels side by side, one line per series, dashed markers. */
export interface LineSeries {
  name: string;
  /** [x, y] points in x order. */
  points: [number, number][];
  dashed?: boolean;
}

export interface LinePanel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Vertical lines at these x values, labelled (e.g. "warm-up ends"). */
  markers?: { x: number; label: string }[];
}

const W = 620;
const H = 380;
const M = { left: 64, right: 20, top: 40, bottom: 50 };

const tick = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

function panel(p: LinePanel, offsetX: number): string {
  const xs = p.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = p.series.flatMap((s) => s.points.map(([, y]) => y));
  const maxX = Math.max(1e-9, ...xs, ...(p.markers ?? []).map((m) => m.x));
  const maxY = Math.max(1, ...ys) * 1.1;
  const x = (v: number) => offsetX + M.left + (v / maxX) * (W - M.left - M.right);
  const y = (v: number) => M.top + (1 - v / maxY) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<text x="${offsetX + W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(p.title)}</text>`);
  parts.push(`<rect x="${x(0)}" y="${y(maxY)}" width="${x(maxX) - x(0)}" height="${y(0) - y(maxY)}" fill="none" stroke="#888"/>`);
  for (let i = 0; i <= 5; i++) {
    const vx = (maxX / 5) * i;
    const vy = (maxY / 5) * i;
    parts.push(`<text x="${x(vx)}" y="${y(0) + 18}" text-anchor="middle" font-size="11">${tick(vx)}</text>`);
    parts.push(`<line x1="${x(0)}" y1="${y(vy)}" x2="${x(maxX)}" y2="${y(vy)}" stroke="#eee"/>`);
    parts.push(`<text x="${x(0) - 8}" y="${y(vy) + 4}" text-anchor="end" font-size="11">${tick(vy)}</text>`);
  }
  parts.push(`<text x="${offsetX + W / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${escape(p.xLabel)}</text>`);
  parts.push(`<text x="${offsetX + 16}" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${offsetX + 16} ${H / 2})">${escape(p.yLabel)}</text>`);
  for (const m of p.markers ?? []) {
    parts.push(`<line x1="${x(m.x)}" y1="${y(0)}" x2="${x(m.x)}" y2="${y(maxY)}" stroke="#999" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x(m.x) + 4}" y="${y(maxY) + 12}" font-size="10" fill="#666">${escape(m.label)}</text>`);
  }
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="6 3"' : '';
    const points = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    if (s.points.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points}"/>`);
    const ly = y(maxY) + 30 + i * 16;
    parts.push(`<line x1="${x(maxX) - 170}" y1="${ly}" x2="${x(maxX) - 150}" y2="${ly}" stroke="${color}" stroke-width="3"${dash}/>`);
    parts.push(`<text x="${x(maxX) - 145}" y="${ly + 4}" font-size="12">${escape(s.name)}</text>`);
  });
  return parts.join('\n');
}

export function lineChartSvg(panels: LinePanel[]): string {
  return panelsSvg(panels.map((p, i) => panel(p, i * W)), W, H);
}
