import { elementCount } from '@outlet/contracts';
import { MultiExitModel, argMax, maxProbability } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { ExitRecords } from '@outlet/planner';
import { LabelledSet } from './labelled-samples';

/** Values per sample of a model's input (its shape without the batch dimension). */
export function inputSize(pkg: ModelPackage): number {
  return elementCount(pkg.manifest.input.shape.slice(1));
}

/**
 * Run every sample through every segment and every exit head (CPU) and record, per exit, each
 * sample's max softmax probability and whether the head's argmax is the label. Samples go in
 * batches of `batch` (falls back to 1 if the model refuses a batch).
 */
export async function collectExitRecords(
  pkg: ModelPackage,
  set: LabelledSet,
  options: { threads?: number; batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ExitRecords> {
  const m = pkg.manifest;
  const size = inputSize(pkg);
  const classes = m.output.shape[m.output.shape.length - 1];
  set.samples.forEach((s, k) => {
    if (s.data.length !== size) throw new Error(`sample ${k} has ${s.data.length} values; ${m.name}'s input has ${size}`);
    if (s.label >= classes) throw new Error(`sample ${k} has label ${s.label}; ${m.name} has ${classes} classes`);
  });
  const model = await MultiExitModel.load(pkg, 'cpu', options.threads ?? 1);
  const total = set.samples.length;
  const exits = m.exits.length;
  const records: ExitRecords = {
    confidence: Array.from({ length: exits }, () => new Float32Array(total)),
    correct: Array.from({ length: exits }, () => new Uint8Array(total)),
  };
  let batch = Math.max(1, options.batch ?? 256);
  try {
    for (let start = 0; start < total; ) {
      const count = Math.min(batch, total - start);
      const input = new Float32Array(count * size);
      for (let k = 0; k < count; k++) input.set(set.samples[start + k].data, k * size);
      let outputs: Float32Array[];
      try {
        outputs = await runAllExits(model, { data: input, dims: [count, ...m.input.shape.slice(1)] });
      } catch (err) {
        if (batch === 1) throw err;
        batch = 1; // a model exported without a dynamic batch dimension
        continue;
      }
      outputs.forEach((probs, e) => {
        if (probs.length !== count * classes) throw new Error(`exit ${e} returned ${probs.length} values for ${count} samples of ${classes} classes`);
        for (let k = 0; k < count; k++) {
          const row = probs.subarray(k * classes, (k + 1) * classes);
          records.confidence[e][start + k] = maxProbability(row);
          records.correct[e][start + k] = argMax(row) === set.samples[start + k].label ? 1 : 0;
        }
      });
      start += count;
      options.onProgress?.(start, total);
    }
  } finally {
    await model.release();
  }
  return records;
}

async function runAllExits(model: MultiExitModel, input: { data: Float32Array; dims: number[] }): Promise<Float32Array[]> {
  const m = model.manifest;
  const outputs: Float32Array[] = new Array(m.exits.length);
  let feature = input;
  for (let s = 0; s < m.segments.length; s++) {
    feature = await model.runSegment(s, feature);
    const e = model.exitAfterSegment(s);
    if (e !== undefined) outputs[e] = await model.runExit(e, feature);
  }
  return outputs;
}
