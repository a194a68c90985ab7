import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { sessionOptions } from '@outlet/inference';
import { seededRandom } from '@outlet/onnx-cost';
import type { MultiExitSplit } from './split';

/**
 * Numerical check of a split: for every input, the original model's exit outputs against the
 * chain segment 1 .. segment k -> head k of every exit, all on onnxruntime's CPU provider with one
 * thread (the same graph optimizations the runtime uses).
 *
 * Error of one comparison (one exit, one input): max|a - b| / max(max|b|, 1e-12), with b the
 * original's output (softmaxed over the last axis when the split appended a Softmax) and a the
 * head's: a normwise relative error, so that an exit with tiny values is not judged by an
 * absolute tolerance meant for probabilities near 1.
 *
 * Random inputs are N(0, 1) (Box-Muller on the seeded mulberry32 generator of onnx-cost): that is
 * the scale of normalized network inputs and it exercises negative values, which [0, 1] would
 * not; data samples given by the caller cover the real input distribution.
 */

export interface VerifyOptions {
  /** Real inputs, each the input's size without the batch dimension. */
  samples?: Float32Array[];
  /** Number of seeded random N(0, 1) inputs (16 by default). */
  random?: number;
  seed?: number;
  /** Largest error allowed (1e-5 by default). */
  tolerance?: number;
}

export interface VerificationReport {
  maxError: number;
  perExit: { output: string; maxError: number }[];
  comparisons: number;
  samples: { data: number; random: number };
  worst: { exit: string; source: 'data' | 'random'; index: number };
  /** Shape of every segment's output seen in the run (-1 for the batch dimension when the input's is symbolic). */
  segmentOutputShapes: number[][];
  /** Shape of every head's output seen in the run (same convention). */
  exitOutputShapes: number[][];
  tolerance: number;
  holds: boolean;
}

export const DEFAULT_RANDOM_INPUTS = 16;
export const DEFAULT_TOLERANCE = 1e-5;

/** N(0, 1) values from a seeded uniform generator (Box-Muller). */
function gaussian(random: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const a = 2 * Math.PI * random();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** Softmax over the last axis (of size `last`), in float64. */
function softmaxLast(x: Float32Array, last: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += last) {
    let max = -Infinity;
    for (let i = 0; i < last; i++) max = Math.max(max, x[o + i]);
    let sum = 0;
    for (let i = 0; i < last; i++) sum += out[o + i] = Math.exp(x[o + i] - max);
    for (let i = 0; i < last; i++) out[o + i] /= sum;
  }
  return out;
}

/** max|a - b| / max(max|b|, 1e-12); Infinity when sizes differ or only one side is NaN. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    scale = Math.max(scale, Math.abs(y));
    if (x !== y) diff = Math.max(diff, Math.abs(x - y)); // equal infinities differ by 0, not NaN
  }
  return diff / Math.max(scale, 1e-12);
}

async function open(bytes: Uint8Array, what: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions('cpu', 1));
  } catch (err) {
    throw new Error(`onnxruntime cannot load ${what}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Check a split numerically against the original model's bytes (see the top of this file). */
export async function verifySplit(original: Uint8Array, split: MultiExitSplit, options: VerifyOptions = {}): Promise<VerificationReport> {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const randomCount = options.random ?? DEFAULT_RANDOM_INPUTS;
  const samples = options.samples ?? [];
  const { name: inputName, shape } = split.input;
  if (shape.length === 0) throw new Error(`the input '${inputName}' has no declared shape: cannot build inputs to verify with`);
  // The first dimension is the batch: symbolic, or fixed to 1.
  if (shape[0] > 1) throw new Error(`the input '${inputName}' has a fixed first dimension of ${shape[0]}; only a batch dimension (symbolic or 1) is supported`);
  const rest = shape.slice(1);
  if (rest.some((d) => d < 0)) throw new Error(`the input '${inputName}' [${shape.join(', ')}] has symbolic dimensions besides the batch: cannot build inputs to verify with`);
  const size = rest.reduce((a, b) => a * b, 1);
  samples.forEach((s, i) => {
    if (!(s instanceof Float32Array) || s.length !== size) {
      throw new Error(`sample ${i} has ${s?.length ?? 0} values; the input '${inputName}' [${rest.join(', ')}] (without the batch dimension) needs ${size}`);
    }
  });
  if (!Number.isInteger(randomCount) || randomCount < 0) throw new Error(`random must be a non-negative integer, not ${randomCount}`);
  if (samples.length + randomCount === 0) throw new Error('nothing to verify with: give samples or random inputs');

  const random = seededRandom(options.seed ?? 1);
  const inputs = [
    ...samples.map((data, index) => ({ source: 'data' as const, index, data })),
    ...Array.from({ length: randomCount }, (_, index) => ({ source: 'random' as const, index, data: gaussian(random, size) })),
  ];
  const batchDim = (dims: readonly number[]) => dims.map((d, i) => (i === 0 && shape[0] === -1 ? -1 : d));

  const sessions: ort.InferenceSession[] = [];
  const track = async (p: Promise<ort.InferenceSession>) => {
    const s = await p;
    sessions.push(s);
    return s;
  };
  try {
    const orig = await track(open(original, 'the original model'));
    const encode = (m: onnx.ModelProto) => onnx.ModelProto.encode(m).finish();
    const segs: ort.InferenceSession[] = [];
    for (const [k, m] of split.segments.entries()) segs.push(await track(open(encode(m), `segment ${k + 1}`)));
    const heads: ort.InferenceSession[] = [];
    for (const [k, m] of split.heads.entries()) heads.push(await track(open(encode(m), `exit head ${k + 1} ('${split.exits[k].output}')`)));

    const perExit = split.exits.map((e) => ({ output: e.output, maxError: 0 }));
    const segmentOutputShapes: number[][] = [];
    const exitOutputShapes: number[][] = [];
    let maxError = -1;
    let worst: VerificationReport['worst'] = { exit: split.exits[0].output, source: inputs[0].source, index: 0 };
    let comparisons = 0;
    const fetches = split.exits.map((e) => e.output);
    for (const { source, index, data } of inputs) {
      const x = new ort.Tensor('float32', data, [1, ...rest]);
      const reference = await orig.run({ [inputName]: x }, fetches);
      let feature: ort.Tensor = x;
      for (let k = 0; k < segs.length; k++) {
        const seg = segs[k];
        feature = (await seg.run({ [seg.inputNames[0]]: feature }))[seg.outputNames[0]];
        if (segmentOutputShapes.length === k) segmentOutputShapes.push(batchDim(feature.dims));
        const e = split.exits.findIndex((ex) => ex.afterSegment === k);
        if (e < 0) continue;
        const head = heads[e];
        const out = (await head.run({ [head.inputNames[0]]: feature }))[head.outputNames[0]];
        if (exitOutputShapes.length === e) exitOutputShapes.push(batchDim(out.dims));
        const ref = reference[split.exits[e].output];
        const refData = ref.data as Float32Array;
        const b = split.exits[e].softmaxAppended ? softmaxLast(refData, ref.dims[ref.dims.length - 1]) : refData;
        const err = relativeError(out.data as Float32Array, b);
        comparisons += 1;
        perExit[e].maxError = Math.max(perExit[e].maxError, err);
        if (err > maxError) {
          maxError = err;
          worst = { exit: split.exits[e].output, source, index };
        }
      }
    }
    return {
      maxError,
      perExit,
      comparisons,
      samples: { data: samples.length, random: randomCount },
      worst,
      segmentOutputShapes,
      exitOutputShapes,
      tolerance,
      holds: perExit.every((p) => p.maxError <= tolerance),
    };
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}
