import { DriftCorruptionReport, DriftModelReport, DriftReport, DriftRun } from './drift-harness';
import { PhaseMetrics } from './drift';

/** The corrupted phase's criterion: agreement with the final exit after its first `settle` tasks. */
export const DRIFT_AGREEMENT_TARGET = 0.985;
/** The clean-again phase's criterion: mean segments over its last third at most this times static's on clean data. */
export const DRIFT_SEGMENTS_TOLERANCE = 1.1;

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const pct = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '-' : (100 * v).toFixed(digits));
const thresholdsText = (t: readonly number[]) => t.slice(0, -1).map((x) => (x > 1 ? 'off' : String(x))).join(', ');

function versionsText(v: Record<string, number>): string {
  const keys = Object.keys(v).sort((a, b) => (a === '?' ? 1 : b === '?' ? -1 : Number(a) - Number(b)));
  if (keys.length === 0) return '-';
  if (keys.length === 1) return keys[0] === '?' ? 'not reported' : `v${keys[0]}`;
  const known = keys.filter((k) => k !== '?');
  return `v${known[0]}–v${known[known.length - 1]} (${keys.length} versions)`;
}

/** Static's mean segments over its clean phases (first and last): the cost the adaptive tuner should return to. */
export function staticCleanSegments(c: DriftCorruptionReport): number | undefined {
  const s = c.runs.find((r) => r.mode === 'static');
  if (!s) return undefined;
  const clean = s.phases.filter((p) => p.kind === 'clean');
  const n = clean.reduce((a, p) => a + p.tasks - p.errors, 0);
  return n ? clean.reduce((a, p) => a + p.meanSegments * (p.tasks - p.errors), 0) / n : undefined;
}

export interface DriftCriteria {
  model: string;
  corruption: string;
  settle: number;
  staticAfter?: number;
  adaptiveAfter?: number;
  agreementMet?: boolean;
  /** Task index in the corrupted phase of the adaptive run's first threshold change. */
  firstChangeAt?: number;
  adaptiveLastThirdSegments?: number;
  staticCleanSegments?: number;
  segmentsRatio?: number;
  segmentsMet?: boolean;
}

export function driftCriteria(model: DriftModelReport, c: DriftCorruptionReport): DriftCriteria {
  const st = c.runs.find((r) => r.mode === 'static');
  const ad = c.runs.find((r) => r.mode === 'adaptive');
  const adaptiveAfter = ad?.phases[1].after?.agreement;
  const lastThird = ad?.phases[2].lastThird?.meanSegments;
  const base = staticCleanSegments(c);
  const ratio = lastThird !== undefined && base !== undefined ? lastThird / base : undefined;
  return {
    model: model.model,
    corruption: c.corruption,
    settle: ad?.phases[1].after?.skip ?? st?.phases[1].after?.skip ?? 0,
    staticAfter: st?.phases[1].after?.agreement,
    adaptiveAfter,
    agreementMet: adaptiveAfter === undefined || !Number.isFinite(adaptiveAfter) ? undefined : adaptiveAfter >= DRIFT_AGREEMENT_TARGET,
    firstChangeAt: ad?.phases[1].firstChangeAt,
    adaptiveLastThirdSegments: lastThird,
    staticCleanSegments: base,
    segmentsRatio: ratio,
    segmentsMet: ratio === undefined || !Number.isFinite(ratio) ? undefined : ratio <= DRIFT_SEGMENTS_TOLERANCE,
  };
}

const met = (v: boolean | undefined) => (v === undefined ? 'n/a' : v ? 'met' : 'missed');

const PHASE_HEADER = ['mode', 'phase', 'tasks', 'agree %', 'acc %', 'final acc %', 'mean seg', 'exit shares %', 'p50 ms', 'p99 ms', 'thresholds versions', 'plans (trunk)'];

/** The plans the answers name, most used first, with their shares (at most three). */
function plansText(plans: Record<string, number>): string {
  const total = Object.values(plans).reduce((a, b) => a + b, 0);
  if (!total) return '-';
  const sorted = Object.entries(plans).sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, 3).map(([p, n]) => `${p} ${Math.round((100 * n) / total)}%`);
  return `${shown.join('; ')}${sorted.length > 3 ? `; +${sorted.length - 3} more` : ''}`;
}

function phaseRow(run: DriftRun, p: PhaseMetrics): string[] {
  return [
    run.mode,
    `${p.name}${p.kind !== 'clean' ? ` (${p.kind})` : ''}`,
    `${p.tasks}${p.errors ? ` (${p.errors} err)` : ''}`,
    pct(p.agreement),
    pct(p.accuracy),
    pct(p.finalAccuracy),
    f(p.meanSegments, 3),
    p.exitShares.map((x) => (100 * x).toFixed(0)).join('/'),
    f(p.latencyP50Ms),
    f(p.latencyP99Ms),
    versionsText(p.versions),
    plansText(p.plans ?? {}),
  ];
}

function pad(rows: string[][], header: string[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

function markdownTable(rows: string[][], header: string[]): string[] {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
}

function criteriaLines(model: DriftModelReport, c: DriftCorruptionReport): string[] {
  const k = driftCriteria(model, c);
  const ad = c.runs.find((r) => r.mode === 'adaptive');
  const lines = [
    `corrupted phase, agreement after its first ${k.settle} tasks >= ${pct(DRIFT_AGREEMENT_TARGET)} %: adaptive ${pct(k.adaptiveAfter)} % ` +
      `(n=${ad?.phases[1].after?.n ?? 0}), static ${pct(k.staticAfter)} % — ${met(k.agreementMet)}`,
    `first threshold change in the corrupted phase: ${
      k.firstChangeAt !== undefined ? `at its task ${k.firstChangeAt}` : ad ? (ad.versionSource === 'none' ? 'unknown (no thresholds version in the answers, no history)' : 'none') : 'n/a'
    }`,
    `clean again, mean segments over its last third within ${Math.round((DRIFT_SEGMENTS_TOLERANCE - 1) * 100)} % of static's on clean data: ` +
      `${f(k.adaptiveLastThirdSegments, 3)} vs ${f(k.staticCleanSegments, 3)} (${f(k.segmentsRatio, 3)}×) — ${met(k.segmentsMet)}`,
  ];
  for (const run of c.runs) {
    const t = run.thresholdsAtEnd;
    const changes = run.history.filter((h) => h.kind && h.kind !== 'start');
    const kinds = changes.reduce<Record<string, number>>((a, h) => ((a[h.kind!] = (a[h.kind!] ?? 0) + 1), a), {});
    lines.push(
      `${run.mode}: thresholds at the end ${t ? `v${t.version} [${thresholdsText(t.thresholds)}]${t.auditRate !== undefined ? `, audit rate ${t.auditRate}` : ''}` : 'unknown (no thresholds route)'}` +
        `; changes ${changes.length}${changes.length ? ` (${Object.entries(kinds).map(([x, n]) => `${n} ${x}`).join(', ')})` : ''}` +
        `${run.audits ? `; audits run ${run.audits.run}, dropped ${run.audits.dropped}` : ''}` +
        `; the trunk made its plans again ${(run.events ?? []).filter((e) => e.process === 'trunk' && /plans made again/.test(e.line)).length} times (its log)` +
        `; versions from ${run.versionSource}; ${f(run.wallS, 0)} s`,
    );
  }
  return lines;
}

function auditRows(model: DriftModelReport): { header: string[]; rows: string[][]; lines: string[] } | undefined {
  const a = model.auditCost;
  if (!a) return undefined;
  const header = ['block', 'audits', 'tasks', 'tasks/s', 'p50 ms', 'p99 ms', 'trunk CPU ms/task', 'audits during / after (dropped)', 'drain s'];
  const rows = a.blocks.map((b, i) => [
    String(i + 1),
    `${b.audits} (${b.rate})`,
    `${b.tasks}${b.errors ? ` (${b.errors} err)` : ''}`,
    f(b.throughputPerS, 1),
    f(b.latency.p50Ms),
    f(b.latency.p99Ms),
    f(b.trunkCpuMsPerTask),
    `${b.auditsDuring ?? '?'} / ${b.auditsAfter ?? '?'} (${b.auditsDropped ?? '?'})`,
    f(b.drainMs / 1000, 1),
  ]);
  const ratio = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) && y > 0 ? `${(x / y).toFixed(3)}×` : '-');
  const lines = [
    `audits on vs off (blocks pooled): throughput ${f(a.on.throughputPerS, 1)} vs ${f(a.off.throughputPerS, 1)} tasks/s (${ratio(a.on.throughputPerS, a.off.throughputPerS)}), ` +
      `p50 ${f(a.on.latency.p50Ms)} vs ${f(a.off.latency.p50Ms)} ms (${ratio(a.on.latency.p50Ms, a.off.latency.p50Ms)}), ` +
      `p99 ${f(a.on.latency.p99Ms)} vs ${f(a.off.latency.p99Ms)} ms (${ratio(a.on.latency.p99Ms, a.off.latency.p99Ms)})`,
    `audits run ${a.on.audits ?? '?'} of ${a.on.tasks} tasks (${a.on.audits !== undefined ? pct(a.on.audits / Math.max(1, a.on.tasks)) : '?'} %), dropped ${a.on.dropped ?? '?'}; ` +
      `extra trunk time per task: measured ${f(a.extraTrunkMsPerTask)} ms (trunk CPU, on − off: ${f(a.on.trunkCpuMsPerTask)} − ${f(a.off.trunkCpuMsPerTask)}), ` +
      `estimated ${f(a.estimatedExtraTrunkMsPerTask)} ms (audits × the full network with every head, ${f(a.fullNetworkMs, 3)} ms from profile.json)`,
  ];
  return { header, rows, lines };
}

function auditSetup(m: DriftModelReport): string {
  const a = m.auditCost!;
  return (
    `closed loop c=${a.concurrency}, blocks of ${a.seconds} s alternating audits on (OUTLET_AUDIT_RATE=${a.rate}) and off (0) in pairs of either order, ` +
    `each block a fresh system with OUTLET_ADAPT=off (the same thresholds throughout)`
  );
}

export interface DriftHeader {
  command: string;
  startedAt: string;
  cpuLayout: string;
}

function intro(report: DriftReport, h: DriftHeader): string[] {
  const o = report.options;
  return [
    `command: ${h.command}`,
    `machine: ${report.machine.cpuModel ?? 'unknown CPU'}, ${report.machine.cpus} cores (${report.machine.hostname}); ${h.cpuLayout}`,
    `started ${h.startedAt}; seed ${o.seed}; phases clean ${o.phases[0]} → corrupted ${o.phases[1]} → clean ${o.phases[2]} tasks, ${(o.load ?? 1) < 1 ? `one client at load ${o.load} (after each answer it waits its latency × ${(1 / o.load - 1).toFixed(2)})` : 'closed loop at concurrency 1'} ` +
      `(${o.warmup} clean warm-up tasks first, not counted); static (OUTLET_ADAPT=off) and adaptive (OUTLET_ADAPT=on, audit rate, budget and the rest at their defaults), ` +
      `each on a fresh system (fresh Redis: thresholds start from the offline calibration in manifest.json)`,
    `inputs: held-out MNIST digits (mnist package, i % 5 == 4), one seeded shuffle walked across the phases; reference: the true label and the model's own FINAL exit ` +
      `on the same input, computed in process (every exit, onnxruntime CPU); agreement = the answer's label (argmax of its output) == the final exit's label`,
  ];
}

function corruptionLines(report: DriftReport): string[] {
  const seen = new Map<string, string>();
  for (const m of report.models) for (const c of m.corruptions) seen.set(`${m.model}: ${c.corruption}`, c.description);
  return [...seen].map(([k, d]) => `  ${k.split(': ')[0]}: ${d}`);
}

/** The printed report. */
export function driftReportText(report: DriftReport, h: DriftHeader): string {
  const out: string[] = ['outlet bench --drift: exit thresholds under data drift, static vs adaptive', ...intro(report, h), 'corruptions (pixels 0..1, background 0):', ...corruptionLines(report), ''];
  for (const m of report.models) {
    out.push(
      `== ${m.model} v${m.modelVersion}: offline thresholds [${thresholdsText(m.offlineThresholds)}], segments per exit ${m.segmentsPerExit.join('/')}; ` +
        `reference of ${m.distinctInputs} distinct inputs in ${f(m.referenceS, 1)} s ==`,
    );
    for (const c of m.corruptions) {
      out.push('', `-- ${m.model}, ${c.description} --`);
      out.push(...pad(c.runs.flatMap((r) => r.phases.map((p) => phaseRow(r, p))), PHASE_HEADER));
      out.push(
        `offline thresholds by the exit rule on the in-process outcomes (what static should show): agreement ${c.offlineRule.map((x) => pct(x.agreement)).join(' / ')} %, ` +
          `mean segments ${c.offlineRule.map((x) => f(x.meanSegments, 3)).join(' / ')}`,
      );
      out.push(...criteriaLines(m, c));
    }
    const a = auditRows(m);
    if (a) {
      out.push('', `-- ${m.model}: the audits' cost on clean data, ${auditSetup(m)} --`);
      out.push(...pad(a.rows, a.header), ...a.lines);
    }
    out.push('');
  }
  out.push('Summary (adaptive vs static):');
  const rows = report.models.flatMap((m) => m.corruptions.map((c) => driftCriteria(m, c)));
  out.push(...pad(rows.map(summaryRow), SUMMARY_HEADER(rows[0]?.settle ?? report.options.settle)));
  return out.join('\n');
}

const SUMMARY_HEADER = (settle: number) => [
  'model',
  'corruption',
  `agree % after ${settle} (adaptive / static)`,
  `>= ${pct(DRIFT_AGREEMENT_TARGET)} %`,
  'first change at task',
  'last-third seg / static clean seg',
  `within ${Math.round((DRIFT_SEGMENTS_TOLERANCE - 1) * 100)} %`,
];

function summaryRow(k: DriftCriteria): string[] {
  return [
    k.model,
    k.corruption,
    `${pct(k.adaptiveAfter)} / ${pct(k.staticAfter)}`,
    met(k.agreementMet),
    k.firstChangeAt === undefined ? '-' : String(k.firstChangeAt),
    `${f(k.adaptiveLastThirdSegments, 3)} / ${f(k.staticCleanSegments, 3)} (${f(k.segmentsRatio, 3)}×)`,
    met(k.segmentsMet),
  ];
}

/** The markdown summary written beside the JSON and the SVG. */
export function driftReportMarkdown(report: DriftReport, h: DriftHeader, files: { json: string; svg: string; text: string }): string {
  const out: string[] = [
    '# Exit thresholds under data drift: static vs adaptive',
    '',
    ...intro(report, h).map((l) => `- ${l.replace(/^command: (.*)$/, 'command: `$1`')}`),
    '',
    'Corruptions (pixels 0..1, background 0):',
    '',
    ...corruptionLines(report).map((l) => `- ${l.trim()}`),
    '',
    `Files: [${files.json}](${files.json}), chart [${files.svg}](${files.svg}) (rolling agreement over 100 tasks, rolling mean segments, and the live thresholds per exit), full text [${files.text}](${files.text}).`,
    '',
    '## Summary',
    '',
  ];
  const rows = report.models.flatMap((m) => m.corruptions.map((c) => driftCriteria(m, c)));
  out.push(...markdownTable(rows.map(summaryRow), SUMMARY_HEADER(rows[0]?.settle ?? report.options.settle)));
  for (const m of report.models) {
    out.push('', `## ${m.model} (offline thresholds ${thresholdsText(m.offlineThresholds)}; segments per exit ${m.segmentsPerExit.join('/')})`);
    for (const c of m.corruptions) {
      out.push('', `### ${c.description}`, '');
      out.push(...markdownTable(c.runs.flatMap((r) => r.phases.map((p) => phaseRow(r, p))), PHASE_HEADER));
      out.push(
        '',
        `- offline thresholds by the exit rule on the in-process outcomes: agreement ${c.offlineRule.map((x) => pct(x.agreement)).join(' / ')} %, mean segments ${c.offlineRule.map((x) => f(x.meanSegments, 3)).join(' / ')}`,
        ...criteriaLines(m, c).map((l) => `- ${l}`),
      );
    }
    const a = auditRows(m);
    if (a) {
      out.push('', `### The audits' cost on clean data (${auditSetup(m)})`, '');
      out.push(...markdownTable(a.rows, a.header), '', ...a.lines.map((l) => `- ${l}`));
    }
  }
  return `${out.join('\n')}\n`;
}
