import { CdfPanel, cdfChartSvg } from './cdf-chart';
import { ScenarioReport } from './harness';

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

/** A perf_analyzer-style table of one scenario. */
export function scenarioTable(s: ScenarioReport): string {
  const lines: string[] = [];
  lines.push(`Scenario ${s.name}: background load ${Math.round(s.backgroundLoad * 100)} % (measured ${Math.round(s.measuredLoad * 100)} %), oracle plan ${s.oracle.plan}`);
  const header = ['strategy', 'load pattern', 'n', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'req/s', 'accuracy', 'exits', 'wasted seg', 'plan used'];
  const rows: string[][] = [];
  for (const st of s.strategies) {
    for (const r of [...st.runs, ...(st.inProcess ? [st.inProcess] : [])]) {
      rows.push([
        st.strategy,
        r.pattern,
        String(r.latency.n) + (r.errors ? ` (${r.errors} err)` : ''),
        f(r.latency.meanMs),
        f(r.latency.p50Ms),
        f(r.latency.p90Ms),
        f(r.latency.p99Ms),
        f(r.throughputPerS, 1),
        `${(r.accuracy * 100).toFixed(1)} %`,
        r.exits.join('/'),
        f(r.wastedSegmentsMean),
        Object.keys(r.plans).length === 1 ? Object.keys(r.plans)[0] : Object.entries(r.plans).map(([p, n]) => `${p}×${n}`).join(' '),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  lines.push(fmt(header));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => lines.push(fmt(r)));
  lines.push(
    `system overhead (end-to-end p50 − in-process p50, c=1): ${s.strategies.map((st) => `${st.strategy} ${f(st.overheadP50Ms)} ms`).join(', ')}`,
  );
  if (s.abortReactionMs) lines.push(`abort reaction beyond the work in flight: p50 ${f(s.abortReactionMs.p50Ms, 3)} ms, p99 ${f(s.abortReactionMs.p99Ms, 3)} ms (n=${s.abortReactionMs.n})`);
  if (s.handoffMs) lines.push(`trunk → branch hand-off (feature in the branch worker's hands): p50 ${f(s.handoffMs.p50Ms, 3)} ms, p99 ${f(s.handoffMs.p99Ms, 3)} ms (n=${s.handoffMs.n})`);
  return lines.join('\n');
}

export interface TargetCheck {
  scenario: string;
  target: string;
  measured: string;
  met: boolean;
}

/** The issue's targets, as ratios from the same run. */
export function checkTargets(scenarios: ScenarioReport[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const s of scenarios) {
    const mean = (name: string) => s.strategies.find((x) => x.strategy === name)?.runs.find((r) => r.pattern === 'closed c=1')?.latency.meanMs ?? NaN;
    const auto = mean('auto');
    const ratio = (name: string) => mean(name) / auto;
    checks.push({ scenario: s.name, target: 'auto ≥ 1.25× faster than serial (mean, c=1)', measured: `${f(ratio('serial'))}×`, met: ratio('serial') >= 1.25 });
    checks.push({ scenario: s.name, target: 'auto ≥ 1.6× faster than full (mean, c=1)', measured: `${f(ratio('full'))}×`, met: ratio('full') >= 1.6 });
    const vsOracle = auto / mean('oracle');
    checks.push({ scenario: s.name, target: 'auto ≤ 5 % slower than oracle (mean, c=1)', measured: `${f((vsOracle - 1) * 100, 1)} %`, met: vsOracle <= 1.05 });
    const worstOverhead = Math.max(...s.strategies.map((x) => x.overheadP50Ms ?? NaN));
    checks.push({ scenario: s.name, target: 'system overhead p50 ≤ 1.5 ms (c=1, worst strategy)', measured: `${f(worstOverhead)} ms`, met: worstOverhead <= 1.5 });
    if (s.abortReactionMs) {
      checks.push({ scenario: s.name, target: 'abort reaction p99 ≤ 1 ms beyond the segment in flight', measured: `${f(s.abortReactionMs.p99Ms, 3)} ms`, met: s.abortReactionMs.p99Ms <= 1 });
    }
  }
  return checks;
}

export function targetsTable(checks: TargetCheck[]): string {
  return checks.map((c) => `${c.met ? 'MET   ' : 'MISSED'}  ${c.scenario.padEnd(8)} ${c.target.padEnd(58)} ${c.measured}`).join('\n');
}

export function chartSvg(scenarios: ScenarioReport[], model: string): string {
  const panels: CdfPanel[] = scenarios.map((s) => ({
    title: `${model}, ${s.name} (load ${Math.round(s.backgroundLoad * 100)} %), c=1`,
    series: s.strategies.map((st) => ({ name: st.strategy, valuesMs: st.latenciesC1Ms })),
  }));
  return cdfChartSvg(panels);
}
