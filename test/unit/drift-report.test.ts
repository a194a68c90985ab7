import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DriftCorruptionReport,
  DriftModelReport,
  DriftReport,
  DriftRun,
  DriftSample,
  PhaseMetrics,
  driftChartSvg,
  driftCriteria,
  driftReportMarkdown,
  driftReportText,
  phaseMetrics,
  staticCleanSegments,
  stackSvg,
} from '@outlet/bench';

const SEGMENTS = [1, 2, 3];
const PHASES = [
  { name: 'clean' as const, kind: 'clean' as const, start: 0, count: 30 },
  { name: 'corrupted' as const, kind: 'noise' as const, start: 30, count: 60 },
  { name: 'clean again' as const, kind: 'clean' as const, start: 90, count: 30 },
];

/** A run whose answers agree with probability `agree(i)` (deterministically), exit `exit(i)`, version `version(i)`. */
function run(mode: 'static' | 'adaptive', agree: (i: number) => boolean, exit: (i: number) => number, version: (i: number) => number): DriftRun {
  const samples: DriftSample[] = Array.from({ length: 120 }, (_, i) => ({
    index: i,
    phase: PHASES.findIndex((p) => i >= p.start && i < p.start + p.count),
    label: 3,
    finalLabel: 3,
    answerLabel: agree(i) ? 3 : 5,
    exitIndex: exit(i),
    thresholdVersion: version(i),
    latencyMs: 10 + (i % 7),
    at: 1_000 + i,
    plan: 'trunk,trunk',
  }));
  const per = PHASES.map((p) => samples.slice(p.start, p.start + p.count));
  const phases: PhaseMetrics[] = PHASES.map((p, k) =>
    phaseMetrics(p, per[k], SEGMENTS, { versionBefore: k ? per[k - 1][per[k - 1].length - 1].thresholdVersion : undefined, skip: k === 1 ? 20 : undefined, lastThird: k === 2 }),
  );
  return {
    mode,
    env: { OUTLET_ADAPT: mode === 'static' ? 'off' : 'on', OUTLET_AUDIT_RATE: '', OUTLET_AUDIT_MAX_RATE: '', OUTLET_ACCURACY_BUDGET: '' },
    phases,
    versionSource: 'answers',
    thresholdsAtEnd: { version: mode === 'static' ? 1 : 3, thresholds: mode === 'static' ? [0.75, 0.55, 0] : [0.95, 0.8, 0], auditRate: 0.05 },
    history:
      mode === 'static'
        ? [{ version: 1, at: 0, thresholds: [0.75, 0.55, 0], kind: 'start' }]
        : [
            { version: 1, at: 0, thresholds: [0.75, 0.55, 0], kind: 'start' },
            { version: 2, at: 1_040, thresholds: [2, 2, 0], kind: 'raise' },
            { version: 3, at: 1_100, thresholds: [0.95, 0.8, 0], kind: 'lower' },
          ],
    audits: { run: 6, dropped: 0 },
    wallS: 3,
    events: [{ at: 1_050, process: 'trunk', line: 'plans made again for thresholds v2' }],
    columns: {
      agree: samples.map((s) => (s.answerLabel === s.finalLabel ? 1 : 0)),
      segments: samples.map((s) => SEGMENTS[s.exitIndex!]),
      version: samples.map((s) => s.thresholdVersion ?? null),
      latencyMs: samples.map((s) => s.latencyMs),
    },
  };
}

function report(): DriftReport {
  const corrupted = (i: number) => i >= 30 && i < 90;
  const st = run('static', (i) => !corrupted(i) || i % 3 !== 0, () => 0, () => 1);
  // Adaptive: raises at task 40 (all to the final exit, agreeing), lowers at 100.
  const ad = run('adaptive', (i) => !corrupted(i) || i >= 40 || i % 3 !== 0, (i) => (i >= 40 && i < 100 ? 2 : i >= 100 ? 1 : 0), (i) => (i < 40 ? 1 : i < 100 ? 2 : 3));
  const c: DriftCorruptionReport = {
    corruption: 'noise',
    description: 'noise: + Gaussian noise N(0, σ=0.3)',
    phases: PHASES,
    offlineRule: [{ agreement: 1, meanSegments: 1 }, { agreement: 0.66, meanSegments: 1 }, { agreement: 1, meanSegments: 1 }],
    runs: [st, ad],
  };
  const model: DriftModelReport = {
    model: 'branchy-mnist',
    modelVersion: '1',
    offlineThresholds: [0.75, 0.55, 0],
    segmentsPerExit: SEGMENTS,
    noiseSigma: 0.3,
    referenceS: 0.5,
    distinctInputs: 100,
    corruptions: [c],
    auditCost: {
      concurrency: 4,
      seconds: 10,
      rate: 0.05,
      blocks: [],
      on: { throughputPerS: 100, latency: { n: 10, meanMs: 10, p50Ms: 10, p90Ms: 12, p99Ms: 15 }, trunkCpuMsPerTask: 2.5, audits: 5, dropped: 0, tasks: 100 },
      off: { throughputPerS: 105, latency: { n: 10, meanMs: 9, p50Ms: 9, p90Ms: 11, p99Ms: 13 }, trunkCpuMsPerTask: 2.2, tasks: 100 },
      fullNetworkMs: 0.1,
      extraTrunkMsPerTask: 0.3,
      estimatedExtraTrunkMsPerTask: 0.005,
    },
  };
  return {
    machine: { hostname: 'vm', cpus: 2, cpuModel: 'Test CPU' },
    options: { models: ['branchy-mnist'], modelsDir: 'models', corruptions: ['noise'], modes: ['static', 'adaptive'], phases: [30, 60, 30], settle: 20, load: 1, seed: 1, trunkEp: 'cpu', trunkThreads: 1, branchThreads: 1, warmup: 0, referenceThreads: 1 },
    models: [model],
  };
}

test('the drift criteria: agreement after the settling tasks, first change, last third against static on clean data', () => {
  const r = report();
  const m = r.models[0];
  const c = m.corruptions[0];
  // Static: every clean task at exit 0 (1 segment).
  assert.equal(staticCleanSegments(c), 1);
  const k = driftCriteria(m, c);
  assert.equal(k.settle, 20);
  assert.equal(k.adaptiveAfter, 1, 'after task 20 of the phase (index 50) every adaptive answer agrees');
  assert.equal(k.staticAfter, 1 - 13 / 40, 'static disagrees on every third task of the corrupted phase');
  assert.equal(k.agreementMet, true);
  assert.equal(k.firstChangeAt, 10, 'version 2 from task 40, the phase began at 30');
  assert.equal(k.adaptiveLastThirdSegments, 2, 'exit 1 (2 segments) in the last third');
  assert.equal(k.segmentsRatio, 2);
  assert.equal(k.segmentsMet, false);
});

test('the text and markdown reports and the chart render a report', () => {
  const r = report();
  const header = { command: 'outlet bench --drift --quick', startedAt: '2026-12-06T00:00:00.000Z', cpuLayout: 'trunk on 0' };
  const text = driftReportText(r, header);
  assert.match(text, /command: outlet bench --drift --quick/);
  assert.match(text, /machine: Test CPU, 2 cores/);
  assert.match(text, /noise: \+ Gaussian noise/);
  assert.match(text, /adaptive\s+corrupted \(noise\)\s+60\s+/);
  assert.match(text, /first threshold change in the corrupted phase: at its task 10/);
  assert.match(text, /thresholds at the end v3 \[0\.95, 0\.8\]/);
  assert.match(text, /made its plans again 1 times/);
  assert.match(text, /extra trunk time per task: measured 0\.30 ms/);
  const md = driftReportMarkdown(r, header, { json: 'a.json', svg: 'a.svg', text: 'a.txt' });
  assert.match(md, /^# Exit thresholds under data drift/);
  assert.match(md, /\| branchy-mnist \| noise \| 100\.0 \/ 67\.5 \| met \| 10 \|/);
  const svg = driftChartSvg(r);
  assert.match(svg, /^<svg xmlns/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2 + 2 + 2, 'agreement and segments for both modes, thresholds of two early exits');
  assert.match(svg, /clean again/);
});

test('stacked SVG documents keep their sizes', () => {
  const a = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect/></svg>';
  const b = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30"><rect/></svg>';
  const out = stackSvg([a, b]);
  assert.match(out, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="100" height="80"/);
  assert.match(out, /<svg x="0" y="0" xmlns/);
  assert.match(out, /<svg x="0" y="50" xmlns/);
});
