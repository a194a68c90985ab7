import { CdfPanel, cdfChartSvg } from './cdf-chart';
import { RunSummary, ScenarioReport, STRATEGIES, Strategy } from './harness';
import { LatencyStats } from './stats';

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const ACCELERATORS = ['webgpu', 'cuda'];
/** Fixed plans (throughput is compared against the best of them). */
const FIXED: Strategy[] = ['full', 'serial', 'parallel', 'oracle'];
/** Plans whose predicted and measured order is compared (the oracle has no prediction of its own). */
const ORDERED: Strategy[] = ['full', 'serial', 'parallel', 'auto'];
/** Predicted values closer than this (relative) are a tie: their measured order is not held against the planner. */
export const ORDER_TIE = 0.05;

function pad(rows: string[][], header: string[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

const run = (s: ScenarioReport, name: string, pattern: string): RunSummary | undefined =>
  s.strategies.find((x) => x.strategy === name)?.runs.find((r) => r.pattern === pattern);
const c1Mean = (s: ScenarioReport, name: string) => run(s, name, 'closed c=1')?.latency.meanMs ?? NaN;
const closedConcurrencies = (s: ScenarioReport) =>
  [...new Set(s.strategies.flatMap((st) => st.runs.map((r) => /^closed c=(\d+)$/.exec(r.pattern)?.[1]).filter(Boolean).map(Number)))]
    .filter((c) => c > 1)
    .sort((a, b) => a - b);
const tput = (s: ScenarioReport, name: string, c: number) => run(s, name, `closed c=${c}`)?.throughputPerS ?? NaN;
const stats = (l?: LatencyStats) => (l ? `p50 ${f(l.p50Ms, 3)} ms, p99 ${f(l.p99Ms, 3)} ms (n=${l.n})` : 'none');

/** Throughput at concurrency c: auto vs the best fixed plan. */
export function throughputAt(s: ScenarioReport, c: number) {
  const fixed = FIXED.map((name) => ({ name, perS: tput(s, name, c) })).filter((x) => Number.isFinite(x.perS));
  const best = fixed.sort((a, b) => b.perS - a.perS)[0];
  const auto = tput(s, 'auto', c);
  return { auto, best, ratio: best ? auto / best.perS : NaN };
}

/**
 * Does the measured order of `values` follow the predicted one? Every pair whose predictions
 * differ by more than ORDER_TIE must be measured in the same order; `higherIsBetter` for tasks/s.
 */
export function orderMatches(predicted: Partial<Record<string, number>>, measured: Partial<Record<string, number>>, higherIsBetter = false) {
  const names = Object.keys(predicted).filter((n) => Number.isFinite(predicted[n]) && Number.isFinite(measured[n]));
  const sign = higherIsBetter ? -1 : 1;
  const order = (v: Partial<Record<string, number>>) => [...names].sort((a, b) => sign * (v[a]! - v[b]!));
  const conflicts: string[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [names[i], names[j]];
      const pa = predicted[a]!;
      const pb = predicted[b]!;
      if (Math.abs(pa - pb) / Math.min(pa, pb) <= ORDER_TIE) continue;
      if (Math.sign(pa - pb) !== Math.sign(measured[a]! - measured[b]!)) conflicts.push(`${a}/${b}`);
    }
  }
  const fmt = (o: string[], v: Partial<Record<string, number>>) => o.map((n) => `${n} ${f(v[n], 1)}`).join(higherIsBetter ? ' > ' : ' < ');
  return { matches: names.length >= 2 && conflicts.length === 0, predicted: fmt(order(predicted), predicted), measured: fmt(order(measured), measured), conflicts, compared: names.length };
}

/** Predicted (plan table) vs measured: latency at c=1, throughput at the highest concurrency. */
function predictionChecks(s: ScenarioReport) {
  const p = s.predictions;
  if (!p) return undefined;
  const top = closedConcurrencies(s).at(-1);
  const pickLatency = Object.fromEntries(ORDERED.filter((n) => p.latencyMs[n] !== undefined).map((n) => [n, p.latencyMs[n]!]));
  const pickTput = Object.fromEntries(ORDERED.filter((n) => p.tasksPerS[n] !== undefined).map((n) => [n, p.tasksPerS[n]!]));
  const measuredLatency = Object.fromEntries(ORDERED.map((n) => [n, c1Mean(s, n)]));
  const measuredTput = top ? Object.fromEntries(ORDERED.map((n) => [n, tput(s, n, top)])) : {};
  return {
    top,
    latency: orderMatches(pickLatency, measuredLatency),
    throughput: top ? orderMatches(pickTput, measuredTput, true) : undefined,
  };
}

/** A perf_analyzer-style table of one scenario, and the report's derived figures. */
export function scenarioTable(s: ScenarioReport): string {
  const lines: string[] = [];
  lines.push(
    `Scenario ${s.name}: background load ${Math.round(s.backgroundLoad * 100)} % (measured ${Math.round(s.measuredLoad * 100)} %), trunk on ${s.trunkEp}, oracle plan ${s.oracle.plan}`,
  );
  const header = ['strategy', 'load pattern', 'n', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'tasks/s', 'accuracy', 'exits', 'branch/trunk', 'wasted seg', 'plan used'];
  const rows: string[][] = [];
  const row = (name: string, r: RunSummary) =>
    rows.push([
      name,
      r.pattern,
      String(r.latency.n) + (r.errors ? ` (${r.errors} err)` : ''),
      f(r.latency.meanMs),
      f(r.latency.p50Ms),
      f(r.latency.p90Ms),
      f(r.latency.p99Ms),
      f(r.throughputPerS, 1),
      `${(r.accuracy * 100).toFixed(1)} %`,
      r.exits.join('/'),
      `${r.workers?.branch ?? 0}/${r.workers?.trunk ?? 0}`,
      f(r.wastedSegmentsMean),
      Object.keys(r.plans).length === 1 ? Object.keys(r.plans)[0] : Object.entries(r.plans).map(([p, n]) => `${p}×${n}`).join(' '),
    ]);
  for (const st of s.strategies) for (const r of [...st.runs, ...(st.inProcess ? [st.inProcess] : [])]) row(st.strategy, r);
  if (s.serialSeparate) row('serial-separate', s.serialSeparate);
  lines.push(...pad(rows, header));
  lines.push('(wasted seg: segments the trunk started after the answer was decided, from its telemetry; in process, its own record)');
  lines.push('');

  // Concurrency 1, interleaved.
  const mean = (n: string) => c1Mean(s, n);
  lines.push(`c=1 interleaved means: ${STRATEGIES.map((n) => `${n} ${f(mean(n))} ms`).join(', ')}`);
  lines.push(
    `  parallel / serial ${f(mean('parallel') / mean('serial'), 3)}; auto / oracle ${f(mean('auto') / mean('oracle'), 3)}; full / auto ${f(mean('full') / mean('auto'), 2)}×` +
      (s.serialSeparate ? `; serial-separate (in process) / auto ${f(s.serialSeparate.latency.meanMs / mean('auto'), 2)}×` : ''),
  );
  const inProc = s.strategies.map((st) => ({ name: st.strategy, ms: st.inProcess?.latency.meanMs ?? NaN }));
  if (s.serialSeparate) inProc.push({ name: 'serial-separate', ms: s.serialSeparate.latency.meanMs });
  lines.push(`in-process means: ${inProc.map((x) => `${x.name} ${f(x.ms)} ms`).join(', ')}`);
  lines.push(`system overhead (end-to-end p50 − in-process p50, c=1): ${s.strategies.map((st) => `${st.strategy} ${f(st.overheadP50Ms)} ms`).join(', ')}`);
  if (s.httpFloorP50Ms !== undefined) lines.push(`  floor: the same bodies to a bare node:http server that only parses them, p50 ${f(s.httpFloorP50Ms, 3)} ms (no framework, queue or model)`);
  lines.push('  where it goes, p50 at c=1 (ingress: received → enqueued; queue: enqueued → trunk start; delivery: decision → gateway; client: latency − gateway total):');
  for (const st of s.strategies) {
    const g = st.runs.find((r) => r.pattern === 'closed c=1')?.stagesP50Ms;
    if (g) lines.push(`  ${st.strategy.padEnd(8)} ingress ${f(g.ingress, 3)}, queue ${f(g.queue, 3)}, delivery ${f(g.delivery, 3)}, client ${f(g.client, 3)} ms`);
  }

  // The answer path.
  lines.push(`decision → answer in the gateway (delivery_ms), c=1, all strategies: branch answers ${stats(s.deliveryBranchMs)}; trunk answers ${stats(s.deliveryTrunkMs)}`);
  for (const st of s.strategies) {
    const c1 = st.runs.find((r) => r.pattern === 'closed c=1');
    if (c1?.deliveryBranchMs || c1?.deliveryTrunkMs) lines.push(`  ${st.strategy.padEnd(8)} branch ${stats(c1.deliveryBranchMs)}; trunk ${stats(c1.deliveryTrunkMs)}`);
  }
  if (s.abortReactionMs) lines.push(`abort reaction beyond the work in flight (trunk telemetry): p50 ${f(s.abortReactionMs.p50Ms, 3)} ms, p99 ${f(s.abortReactionMs.p99Ms, 3)} ms (n=${s.abortReactionMs.n})`);
  if (s.handoffMs) lines.push(`trunk → branch hand-off (feature in the branch worker's hands): p50 ${f(s.handoffMs.p50Ms, 3)} ms, p99 ${f(s.handoffMs.p99Ms, 3)} ms (n=${s.handoffMs.n})`);

  // Throughput.
  for (const c of closedConcurrencies(s)) {
    const t = throughputAt(s, c);
    lines.push(
      `throughput c=${c} (closed loop, tasks/s): ${[...FIXED, 'auto'].map((n) => `${n} ${f(tput(s, n, c), 1)}`).join(', ')} → auto ${t.ratio >= 1 ? 'is' : 'is NOT'} at least the best fixed plan (${t.best?.name} ${f(t.best?.perS, 1)}; ratio ${f(t.ratio, 3)})`,
    );
  }
  const top = closedConcurrencies(s).at(-1);
  if (top) {
    const par = tput(s, 'parallel', top);
    const ser = tput(s, 'serial', top);
    lines.push(`heads on the CPU at c=${top}: parallel ${f(par, 1)} vs serial ${f(ser, 1)} tasks/s → they ${par > ser ? 'raise' : 'do not raise'} throughput (${f(par / ser, 3)}×)`);
  }

  // The planner's predictions.
  const p = s.predictions;
  if (!p) {
    lines.push('planner predictions: no plan table for this trunk (run outlet plan <model> --write)');
  } else {
    lines.push(
      `planner predictions (${p.file}, row cpu_util ≤ ${p.row.cpu_util_max} for u=${f(p.cpuUtil, 3)}: plan ${p.row.plan}${p.row.backlog_plan ? `, backlog plan ${p.row.backlog_plan}` : ''}):`,
    );
    const t = closedConcurrencies(s).at(-1);
    const prow: string[][] = STRATEGIES.map((n) => {
      const pm = p.latencyMs[n];
      const mm = mean(n);
      const pt = p.tasksPerS[n];
      const mt = t ? tput(s, n, t) : NaN;
      return [n, f(pm), f(mm), pm ? `${f(((mm - pm) / pm) * 100, 1)} %` : '-', f(pt, 1), f(mt, 1), pt ? `${f(((mt - pt) / pt) * 100, 1)} %` : '-'];
    });
    lines.push(...pad(prow, ['strategy', 'pred ms', 'meas ms (c=1)', 'error', 'pred tasks/s', `meas tasks/s (c=${t ?? '-'})`, 'error']).map((l) => `  ${l}`));
    const checks = predictionChecks(s)!;
    lines.push(`  latency order predicted ${checks.latency.predicted}; measured ${checks.latency.measured} → ${checks.latency.matches ? 'matches' : `does NOT match (${checks.latency.conflicts.join(', ') || 'too few plans'})`}`);
    if (checks.throughput) {
      lines.push(`  throughput order (c=${checks.top}) predicted ${checks.throughput.predicted}; measured ${checks.throughput.measured} → ${checks.throughput.matches ? 'matches' : `does NOT match (${checks.throughput.conflicts.join(', ') || 'too few plans'})`}`);
    }
    lines.push(`  (predictions closer than ${ORDER_TIE * 100} % are ties: their measured order is not held against the planner)`);
  }
  return lines.join('\n');
}

export interface TargetCheck {
  scenario: string;
  target: string;
  measured: string;
  met: boolean;
}

/**
 * The issue's targets, from the same run: the 2-core ones always; with the trunk on an
 * accelerator, the GPU node's too.
 */
export function checkTargets(scenarios: ScenarioReport[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const s of scenarios) {
    const add = (target: string, measured: string, met: boolean) => checks.push({ scenario: s.name, target, measured, met });
    const mean = (n: string) => c1Mean(s, n);
    const auto = mean('auto');
    const accel = ACCELERATORS.includes(s.trunkEp);

    const parRatio = mean('parallel') / mean('serial');
    add("parallel's mean within 10 % of serial's (c=1)", `${f((parRatio - 1) * 100, 1)} %`, parRatio <= 1.1);
    const vsOracle = auto / mean('oracle');
    add('auto ≤ 5 % slower than oracle (mean, c=1)', `${f((vsOracle - 1) * 100, 1)} %`, vsOracle <= 1.05);
    const vsFull = mean('full') / auto;
    add('auto ≥ 1.6× faster than full (mean, c=1)', `${f(vsFull)}×`, vsFull >= 1.6);
    const over = s.strategies.map((x) => ({ name: x.strategy, ms: x.overheadP50Ms ?? NaN }));
    const worst = over.reduce((a, b) => (b.ms > a.ms || Number.isNaN(b.ms) ? b : a), over[0]);
    add('system overhead p50 ≤ 2 ms, every strategy (c=1)', `worst ${worst.name} ${f(worst.ms)} ms`, over.every((x) => x.ms <= 2));
    add('branch answers: decision → gateway p50 ≤ 1 ms', s.deliveryBranchMs ? `${f(s.deliveryBranchMs.p50Ms, 3)} ms (n=${s.deliveryBranchMs.n})` : 'no branch answers', (s.deliveryBranchMs?.p50Ms ?? Infinity) <= 1);

    if (accel) {
      const inProc = [...s.strategies.map((x) => ({ name: x.strategy, ms: x.inProcess?.latency.meanMs ?? NaN })), ...(s.serialSeparate ? [{ name: 'serial-separate', ms: s.serialSeparate.latency.meanMs }] : [])]
        .filter((x) => Number.isFinite(x.ms))
        .sort((a, b) => a.ms - b.ms);
      const best = inProc[0];
      const vsBest = best ? auto / best.ms : NaN;
      add('GPU: auto within 10 % of the best strategy in process (c=1)', `${f((vsBest - 1) * 100, 1)} % vs ${best?.name ?? '-'} ${f(best?.ms)} ms`, vsBest <= 1.1);
      const vsSep = (s.serialSeparate?.latency.meanMs ?? NaN) / auto;
      add('GPU: auto ≥ 1.2× faster than serial-separate (in process)', `${f(vsSep)}×`, vsSep >= 1.2);
    }
    for (const c of closedConcurrencies(s)) {
      const t = throughputAt(s, c);
      add(`${accel ? 'GPU: ' : ''}throughput c=${c}: auto ≥ best fixed plan`, `${f(t.auto, 1)} vs ${t.best?.name ?? '-'} ${f(t.best?.perS, 1)} tasks/s`, t.ratio >= 1);
    }
    const pc = predictionChecks(s);
    if (pc) {
      add(`${accel ? 'GPU: ' : ''}predicted order of plans matches (latency, c=1)`, pc.latency.matches ? 'matches' : `conflicts ${pc.latency.conflicts.join(', ') || '-'}`, pc.latency.matches);
      if (pc.throughput) add(`${accel ? 'GPU: ' : ''}predicted order of plans matches (tasks/s, c=${pc.top})`, pc.throughput.matches ? 'matches' : `conflicts ${pc.throughput.conflicts.join(', ') || '-'}`, pc.throughput.matches);
    } else {
      add('predicted order of plans matches', 'no plan table', false);
    }
  }
  return checks;
}

export function targetsTable(checks: TargetCheck[]): string {
  const w = Math.max(...checks.map((c) => c.target.length));
  return checks.map((c) => `${c.met ? 'MET   ' : 'MISSED'}  ${c.scenario.padEnd(8)} ${c.target.padEnd(w)}  ${c.measured}`).join('\n');
}

export function chartSvg(scenarios: ScenarioReport[], model: string): string {
  const panels: CdfPanel[] = scenarios.map((s) => ({
    title: `${model}, ${s.name} (load ${Math.round(s.backgroundLoad * 100)} %), c=1`,
    series: s.strategies.map((st) => ({ name: st.strategy, valuesMs: st.latenciesC1Ms })),
  }));
  return cdfChartSvg(panels);
}
