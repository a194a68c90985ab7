import { svgDocument } from './cdf-chart';
import { rollingMean, thresholdSeries } from './drift';
import { DriftReport, DriftRun } from './drift-harness';
import { LinePanel, LineSeries, lineChartSvg } from './line-chart';

/** Tasks per rolling window of the chart. */
export const DRIFT_CHART_WINDOW = 100;
/** Where a threshold that switches its exit off (above 1) is drawn. */
const OFF_AT = 1.05;

/** The thresholds of a run per task index, rebuilt from its columns' versions and its history. */
function runThresholds(run: DriftRun, earlyExits: number): [number, number][][] {
  const samples = run.columns.version.map((v, index) => ({ index, phase: 0, label: 0, finalLabel: 0, latencyMs: 0, at: 0, thresholdVersion: v ?? undefined }));
  return thresholdSeries(samples, run.history, earlyExits, OFF_AT);
}

/**
 * One row per model and corruption, three panels each: rolling agreement with the final exit
 * (static vs adaptive), rolling mean segments run, and the live thresholds per early exit of the
 * adaptive run (from the offline calibration on; static keeps that); phase boundaries marked.
 */
export function driftChartSvg(report: DriftReport): string {
  const rows: string[] = [];
  for (const m of report.models) {
    const early = m.offlineThresholds.length - 1;
    for (const c of m.corruptions) {
      const markers = c.phases.slice(1).map((p) => ({ x: p.start, label: p.kind === 'clean' ? 'clean again' : p.kind }));
      const rolling = (pick: (r: DriftRun) => (number | null)[]): LineSeries[] =>
        c.runs.map((r) => ({ name: r.mode, points: rollingMean(pick(r).map((v) => v ?? undefined), DRIFT_CHART_WINDOW), dashed: r.mode === 'static' }));
      const adaptive = c.runs.find((r) => r.mode === 'adaptive') ?? c.runs[0];
      // Every run starts at the offline calibration; static stays there.
      const thresholds: LineSeries[] = adaptive ? runThresholds(adaptive, early).map((points, e) => ({ name: `exit ${e + 1} (${adaptive.mode})`, points })) : [];
      const panels: LinePanel[] = [
        { title: `${m.model}, ${c.corruption}: agreement with final exit`, xLabel: 'task', yLabel: `agreement (rolling ${DRIFT_CHART_WINDOW})`, series: rolling((r) => r.columns.agree), markers },
        { title: `${m.model}, ${c.corruption}: segments run`, xLabel: 'task', yLabel: `mean segments (rolling ${DRIFT_CHART_WINDOW})`, series: rolling((r) => r.columns.segments), markers },
        { title: `${m.model}, ${c.corruption}: live thresholds`, xLabel: 'task', yLabel: `threshold (${OFF_AT} = exit off)`, series: thresholds, markers },
      ];
      rows.push(lineChartSvg(panels));
    }
  }
  return stackSvg(rows);
}

/** Standalone SVG documents stacked top to bottom in one (each nested as an <svg> at its offset). */
export function stackSvg(documents: string[]): string {
  const sizes = documents.map((d) => {
    const w = /width="(\d+(?:\.\d+)?)"/.exec(d);
    const h = /height="(\d+(?:\.\d+)?)"/.exec(d);
    return { w: w ? Number(w[1]) : 0, h: h ? Number(h[1]) : 0 };
  });
  const width = Math.max(1, ...sizes.map((s) => s.w));
  const height = Math.max(1, sizes.reduce((a, s) => a + s.h, 0));
  let y = 0;
  const parts = documents.map((d, i) => {
    const nested = d.replace('<svg ', `<svg x="0" y="${y}" `);
    y += sizes[i].h;
    return nested;
  });
  return svgDocument(parts, width, height);
}
