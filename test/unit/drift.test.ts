import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '@outlet/onnx-cost';
import {
  DIM_FACTOR,
  DriftSample,
  SHIFT_PX,
  addGaussianNoise,
  counterValue,
  dimImage,
  driftTasks,
  heldOutCountOf,
  lastVersion,
  makeInput,
  noiseSigma,
  phaseMetrics,
  rollingMean,
  ruleExit,
  seededShuffle,
  shiftImage,
  standardNormal,
  taskNoiseSeed,
  thresholdSeries,
  upscaleNearest,
  versionAt,
} from '@outlet/bench';

const stats = (v: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i];
  const mean = sum / v.length;
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += (v[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(sq / v.length) };
};

test('standard normal deviates from a seeded source have mean 0 and sd 1', () => {
  const random = seededRandom(7);
  const v = Array.from({ length: 50_000 }, () => standardNormal(random));
  const s = stats(v);
  assert.ok(Math.abs(s.mean) < 0.02, `mean ${s.mean}`);
  assert.ok(Math.abs(s.sd - 1) < 0.02, `sd ${s.sd}`);
  assert.ok(v.every(Number.isFinite));
});

test('Gaussian noise: σ as asked away from the bounds, clipped to [0, 1], the same for the same seed', () => {
  const mid = new Float32Array(40_000).fill(0.5);
  const noisy = addGaussianNoise(mid, 0.1, seededRandom(3));
  const s = stats(noisy);
  assert.ok(Math.abs(s.mean - 0.5) < 0.005, `mean ${s.mean}`);
  assert.ok(Math.abs(s.sd - 0.1) < 0.005, `sd ${s.sd}`);
  assert.deepEqual(addGaussianNoise(mid, 0.1, seededRandom(3)), noisy, 'same seed, same noise');
  assert.notDeepEqual(addGaussianNoise(mid, 0.1, seededRandom(4)), noisy, 'another seed, other noise');
  assert.equal(mid[0], 0.5, 'the source is left alone');

  // Background (0) and ink (1) pixels: clipped, so about half of each stays at its bound.
  const zeros = addGaussianNoise(new Float32Array(20_000), 0.3, seededRandom(5));
  const ones = addGaussianNoise(new Float32Array(20_000).fill(1), 0.3, seededRandom(5));
  assert.ok(zeros.every((x) => x >= 0 && x <= 1) && ones.every((x) => x >= 0 && x <= 1));
  const atZero = zeros.filter((x) => x === 0).length / zeros.length;
  const atOne = ones.filter((x) => x === 1).length / ones.length;
  assert.ok(Math.abs(atZero - 0.5) < 0.02, `share at 0: ${atZero}`);
  assert.ok(Math.abs(atOne - 0.5) < 0.02, `share at 1: ${atOne}`);
  // The mean of a clipped N(0, 0.3) at 0 is σ/√(2π) ≈ 0.1197.
  assert.ok(Math.abs(stats(zeros).mean - 0.3 / Math.sqrt(2 * Math.PI)) < 0.005);
});

test('dimming multiplies every pixel by the factor', () => {
  const image = [0, 0.5, 1, 0.25];
  assert.deepEqual(Array.from(dimImage(image, 0.4)), image.map((x) => Math.fround(x * 0.4)));
  assert.equal(DIM_FACTOR, 0.4);
});

test('shift moves the image right and down with zero fill', () => {
  const side = 28;
  const image = new Float32Array(side * side);
  image[3 * side + 2] = 1; // (x=2, y=3)
  image[27 * side + 27] = 0.5; // the corner: moves out
  image[0] = 0.25; // (0,0)
  const out = shiftImage(image, side, SHIFT_PX, SHIFT_PX);
  assert.equal(out[(3 + 4) * side + (2 + 4)], 1);
  assert.equal(out[4 * side + 4], 0.25);
  assert.equal(out.filter((x) => x !== 0).length, 2, 'the corner pixel left the image');
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) if (x < 4 || y < 4) assert.equal(out[y * side + x], 0, `uncovered (${x},${y}) is background`);
  }
  // Every pixel moved by exactly (4, 4): out[y][x] = in[y-4][x-4].
  const random = seededRandom(11);
  const dense = Float32Array.from({ length: side * side }, () => random());
  const moved = shiftImage(dense, side, 4, 4);
  for (let y = 4; y < side; y++) for (let x = 4; x < side; x++) assert.equal(moved[y * side + x], dense[(y - 4) * side + (x - 4)]);
  assert.deepEqual(shiftImage(shiftImage(dense, side, 3, -2), side, 0, 0), shiftImage(dense, side, 3, -2));
  assert.throws(() => shiftImage(dense, 27, 1, 1), /27×27/);
});

test('model inputs: shift and dim on the 28×28 source before upscaling, noise per input pixel, deterministic', () => {
  const random = seededRandom(2);
  const source = Float32Array.from({ length: 784 }, () => random());
  assert.deepEqual(makeInput(source, { kind: 'clean', side: 28 }), source);
  assert.deepEqual(makeInput(source, { kind: 'clean', side: 112 }), upscaleNearest(source, 28, 4));
  const shifted = makeInput(source, { kind: 'shift', side: 112 });
  assert.deepEqual(shifted, upscaleNearest(shiftImage(source, 28, 4, 4), 28, 4));
  // In the 112×112 input the digit moved 16 pixels.
  assert.equal(shifted[(16 + 5) * 112 + 16 + 7], makeInput(source, { kind: 'clean', side: 112 })[5 * 112 + 7]);
  assert.deepEqual(makeInput(source, { kind: 'dim', side: 28 }), dimImage(source, 0.4));
  const a = makeInput(source, { kind: 'noise', side: 112, sigma: 0.5, noiseSeed: 9 });
  assert.deepEqual(makeInput(source, { kind: 'noise', side: 112, sigma: 0.5, noiseSeed: 9 }), a);
  assert.notDeepEqual(makeInput(source, { kind: 'noise', side: 112, sigma: 0.5, noiseSeed: 10 }), a);
  assert.ok(a.every((x) => x >= 0 && x <= 1));
  // Noise is independent per input pixel, not per source pixel: a 4×4 block is not constant.
  const flat = makeInput(new Float32Array(784).fill(0.5), { kind: 'noise', side: 112, sigma: 0.5, noiseSeed: 9 });
  const block = [0, 1, 2, 3].flatMap((y) => [0, 1, 2, 3].map((x) => flat[y * 112 + x]));
  assert.ok(new Set(block).size > 8, `a 4×4 block of the noisy input: ${block.join(', ')}`);
  assert.throws(() => makeInput(source, { kind: 'noise', side: 28 }), /sigma/);
  assert.equal(noiseSigma('branchy-mnist'), 0.3);
  assert.equal(noiseSigma('branchy-bench'), 0.5);
});

test('the held-out split and the task sequence', () => {
  assert.equal(heldOutCountOf(1001), 200); // indices 4, 9, ..., 999
  assert.equal(heldOutCountOf(9), 1);
  assert.equal(heldOutCountOf(10), 2);
  const pool = Array.from({ length: 50 }, (_, k) => ({ label: k % 10, nth: Math.floor(k / 10) }));
  assert.deepEqual(seededShuffle(pool, 1), seededShuffle(pool, 1));
  assert.notDeepEqual(seededShuffle(pool, 1), seededShuffle(pool, 2));
  assert.deepEqual([...seededShuffle(pool, 1)].sort((x, y) => x.label - y.label || x.nth - y.nth), [...pool].sort((x, y) => x.label - y.label || x.nth - y.nth));

  const noise = driftTasks(pool, [20, 60, 30], 'noise', 28, 0.3, 1);
  const dim = driftTasks(pool, [20, 60, 30], 'dim', 28, 0.3, 1);
  assert.deepEqual(noise.phases.map((p) => [p.name, p.kind, p.start, p.count]), [['clean', 'clean', 0, 20], ['corrupted', 'noise', 20, 60], ['clean again', 'clean', 80, 30]]);
  assert.equal(noise.tasks.length, 110);
  assert.deepEqual(noise.tasks.map((t) => t.index), Array.from({ length: 110 }, (_, i) => i));
  // The same digits in every corruption; clean tasks share their keys.
  assert.deepEqual(noise.tasks.map((t) => [t.label, t.nth]), dim.tasks.map((t) => [t.label, t.nth]));
  for (const p of [0, 2]) assert.deepEqual(noise.tasks.filter((t) => t.phase === p).map((t) => t.key), dim.tasks.filter((t) => t.phase === p).map((t) => t.key));
  // The pool of 50 is walked in order and cycles: task i and i + 50 are the same digit.
  assert.deepEqual([noise.tasks[3].label, noise.tasks[3].nth], [noise.tasks[53].label, noise.tasks[53].nth]);
  // Noise: each task its own noise (distinct keys and seeds); dim: one key per digit.
  const noisy = noise.tasks.filter((t) => t.phase === 1);
  assert.equal(new Set(noisy.map((t) => t.key)).size, 60);
  assert.equal(new Set(noisy.map((t) => t.recipe.noiseSeed)).size, 60);
  assert.ok(noisy.every((t) => t.recipe.kind === 'noise' && t.recipe.sigma === 0.3));
  const dimmed = dim.tasks.filter((t) => t.phase === 1);
  assert.equal(new Set(dimmed.map((t) => t.key)).size, 50);
  assert.equal(taskNoiseSeed(1, 5), taskNoiseSeed(1, 5));
  assert.notEqual(taskNoiseSeed(1, 5), taskNoiseSeed(2, 5));
  assert.throws(() => driftTasks(pool, [1, 2], 'dim', 28, 0.3, 1), /three/);
});

test('the exit rule picks the first confident early exit, else the final one', () => {
  const exits = [{ confidence: 0.7, label: 1 }, { confidence: 0.6, label: 2 }, { confidence: 0.99, label: 3 }];
  assert.equal(ruleExit(exits, [0.75, 0.55, 0]), 1);
  assert.equal(ruleExit(exits, [0.7, 0.55, 0]), 0, 'confidence reaching the threshold is enough');
  assert.equal(ruleExit(exits, [2, 2, 0]), 2, 'exits off: the final exit answers');
});

function sample(index: number, o: Partial<DriftSample>): DriftSample {
  return { index, phase: 0, label: 1, finalLabel: 1, answerLabel: 1, exitIndex: 0, latencyMs: 10, at: 1000 + index, ...o };
}

test('phase metrics: agreement, accuracy, segments, latency, versions, the criterion windows', () => {
  const segmentsPerExit = [1, 2, 4];
  const samples: DriftSample[] = [
    sample(0, { thresholdVersion: 1, answerLabel: 7, exitIndex: 0, latencyMs: 5 }), // disagrees, wrong
    sample(1, { thresholdVersion: 1, finalLabel: 2, answerLabel: 2, exitIndex: 1, latencyMs: 7 }), // agrees with a wrong final exit
    sample(2, { thresholdVersion: 2, exitIndex: 2, latencyMs: 9 }),
    sample(3, { answerLabel: undefined, exitIndex: undefined, error: '500: boom', latencyMs: 1 }),
    sample(4, { thresholdVersion: 2, exitIndex: 2, latencyMs: 11 }),
    sample(5, { thresholdVersion: 3, exitIndex: 1, latencyMs: 13, plan: 'trunk,branch' }),
  ];
  const m = phaseMetrics({ name: 'corrupted', kind: 'noise' }, samples, segmentsPerExit, { versionBefore: 1, skip: 2, lastThird: true });
  assert.equal(m.tasks, 6);
  assert.equal(m.errors, 1);
  assert.equal(m.agreement, 4 / 5);
  assert.equal(m.accuracy, 3 / 5);
  assert.equal(m.finalAccuracy, 5 / 6, 'the final exit over every task, failed ones too');
  assert.equal(m.meanSegments, (1 + 2 + 4 + 4 + 2) / 5);
  assert.deepEqual(m.exitShares, [1 / 5, 2 / 5, 2 / 5]);
  assert.equal(m.latencyP50Ms, 9);
  assert.ok(Math.abs(m.latencyP99Ms - (11 + 0.96 * 2)) < 1e-9);
  assert.deepEqual(m.versions, { '1': 2, '2': 2, '3': 1 });
  assert.deepEqual(m.plans, { '?': 4, 'trunk,branch': 1 });
  assert.deepEqual(m.after, { skip: 2, n: 3, agreement: 1 });
  assert.equal(m.firstChangeAt, 2, 'the first answer with a version other than the one before the phase');
  assert.deepEqual(m.lastThird, { n: 2, meanSegments: 3, agreement: 1 });
  assert.equal(lastVersion(samples), 3);

  // Without versionBefore the phase's first version is the baseline; no change, no index.
  const same = phaseMetrics({ name: 'clean', kind: 'clean' }, samples.slice(0, 2), segmentsPerExit);
  assert.equal(same.firstChangeAt, undefined);
  assert.equal(same.after, undefined);
  assert.equal(same.lastThird, undefined);
  // A phase that began after a change made in the phase before: the first differing answer.
  assert.equal(phaseMetrics({ name: 'clean again', kind: 'clean' }, samples.slice(2), segmentsPerExit, { versionBefore: 2 }).firstChangeAt, 3);
  // Answers without versions: '?' and no change index.
  const unversioned = phaseMetrics({ name: 'clean', kind: 'clean' }, [sample(0, {}), sample(1, {})], segmentsPerExit, { versionBefore: 1 });
  assert.deepEqual(unversioned.versions, { '?': 2 });
  assert.equal(unversioned.firstChangeAt, undefined);
});

test('rolling means, versions by time and threshold steps for the chart', () => {
  assert.deepEqual(rollingMean([1, 0, undefined, 1, 1], 2), [[0, 1], [1, 0.5], [2, 0.5], [3, 0.5], [4, 1]]);
  const thinned = rollingMean(Array.from({ length: 1000 }, () => 1), 100, 100);
  assert.ok(thinned.length <= 101 && thinned[thinned.length - 1][0] === 999);

  const history = [
    { version: 1, at: 100, thresholds: [0.75, 0.55, 0] },
    { version: 2, at: 200, thresholds: [2, 0.9, 0] },
    { version: 3, at: 300, thresholds: [0.95, 0.9, 0] },
  ];
  assert.equal(versionAt(history, 50), undefined);
  assert.equal(versionAt(history, 100), 1);
  assert.equal(versionAt(history, 250), 2);
  assert.equal(versionAt(history, 1e9), 3);

  const samples = [1, 1, 2, 2, 3].map((v, i) => sample(i, { thresholdVersion: v }));
  const series = thresholdSeries(samples, history, 2, 1.05);
  assert.deepEqual(series[0], [[0, 0.75], [2, 0.75], [2, 1.05], [4, 1.05], [4, 0.95]]);
  assert.deepEqual(series[1], [[0, 0.55], [2, 0.55], [2, 0.9], [4, 0.9], [4, 0.9]]);
});

test('Prometheus counters are read for one model and summed over their other labels', () => {
  const text = [
    '# HELP outlet_audited_tasks_total Answered tasks audited',
    '# TYPE outlet_audited_tasks_total counter',
    'outlet_audited_tasks_total{model="branchy-mnist",version="1"} 12',
    'outlet_audited_tasks_total{model="branchy-mnist",version="2"} 3',
    'outlet_audited_tasks_total{model="branchy-bench",version="1"} 40',
    'outlet_audited_tasks_total_other{model="branchy-mnist"} 99',
  ].join('\n');
  assert.equal(counterValue(text, 'outlet_audited_tasks_total', 'branchy-mnist'), 15);
  assert.equal(counterValue(text, 'outlet_audited_tasks_total', 'residual-exits'), undefined);
  assert.equal(counterValue(text, 'outlet_audits_dropped_total', 'branchy-mnist'), undefined);
});
