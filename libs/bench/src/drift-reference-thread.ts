import { parentPort, workerData } from 'node:worker_threads';
import { Feature, MultiExitModel, argMax } from '@outlet/inference';
import { loadModelPackage } from '@outlet/model-package';
import { ExitOutcome, InputRecipe, makeInput } from './drift';
import { MNIST_PIXELS, heldOutDigit } from './mnist';

/** One input to run through every exit: its digit and how it is made (see makeInput). */
export interface ReferenceJob {
  key: string;
  label: number;
  nth: number;
  recipe: InputRecipe;
}

export interface ReferenceThreadData {
  modelDir: string;
  jobs: ReferenceJob[];
  batch: number;
}

/** Messages from the thread: progress, then the outcomes (one per job, in order). */
export type ReferenceThreadMessage = { done: number } | { outcomes: ExitOutcome[][] } | { error: string };

/**
 * Every segment and every exit head of the model on each input, on the CPU with one onnxruntime
 * thread, each head fused with its segment as the trunk's audits run them (same values as
 * separate calls, see MultiExitModel.runSegmentWithExit); inputs go in batches when the model
 * takes them, one by one otherwise.
 */
async function main() {
  const { modelDir, jobs, batch: wanted } = workerData as ReferenceThreadData;
  const pkg = loadModelPackage(modelDir);
  const m = pkg.manifest;
  const model = await MultiExitModel.load(pkg, 'cpu', 1, { fused: true });
  const classes = m.output.shape[m.output.shape.length - 1];
  const inputSize = m.input.shape.slice(1).reduce((a, b) => a * b, 1);
  const outcomes: ExitOutcome[][] = [];
  let batch = Math.max(1, wanted);
  try {
    for (let start = 0; start < jobs.length; ) {
      const count = Math.min(batch, jobs.length - start);
      const data = new Float32Array(count * inputSize);
      for (let k = 0; k < count; k++) {
        const job = jobs[start + k];
        const source = heldOutDigit(job.label, job.nth);
        if (source.length !== MNIST_PIXELS) throw new Error(`no held-out digit ${job.nth} of class ${job.label}`);
        data.set(makeInput(source, job.recipe), k * inputSize);
      }
      let perExit: Float32Array[];
      try {
        perExit = await runAllExits(model, { data, dims: [count, ...m.input.shape.slice(1)] });
      } catch (err) {
        if (batch === 1) throw err;
        batch = 1; // exported without a dynamic batch dimension
        continue;
      }
      for (let k = 0; k < count; k++) {
        outcomes.push(
          perExit.map((probs) => {
            const row = probs.subarray(k * classes, (k + 1) * classes);
            const label = argMax(row);
            return { confidence: row[label], label };
          }),
        );
      }
      start += count;
      parentPort!.postMessage({ done: start } satisfies ReferenceThreadMessage);
    }
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message } satisfies ReferenceThreadMessage);
    return;
  } finally {
    // Before the outcomes go: the parent may end the thread once it has them, and ending a thread
    // while onnxruntime releases its sessions aborts the whole process.
    await model.release();
  }
  parentPort!.postMessage({ outcomes } satisfies ReferenceThreadMessage);
}

async function runAllExits(model: MultiExitModel, input: Feature): Promise<Float32Array[]> {
  const m = model.manifest;
  const out: Float32Array[] = new Array(m.exits.length);
  let feature = input;
  for (let s = 0; s < m.segments.length; s++) {
    const e = model.exitAfterSegment(s);
    if (e === undefined) {
      feature = await model.runSegment(s, feature);
    } else {
      const r = await model.runSegmentWithExit(s, feature);
      feature = r.feature;
      out[e] = r.probabilities.slice();
    }
  }
  return out;
}

if (parentPort && workerData?.jobs) void main();
