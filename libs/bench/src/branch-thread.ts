import { parentPort, workerData } from 'node:worker_threads';
import { MultiExitModel, isConfident, maxProbability } from '@outlet/inference';
import { loadModelPackage } from '@outlet/model-package';
import { nowMs } from '@outlet/contracts';

/** The in-process baseline's branch worker: early exit heads on the CPU in a thread of their own. */
export interface HeadRequest {
  taskId: number;
  exitIndex: number;
  data: Float32Array;
  dims: number[];
  threshold: number;
}

export interface HeadResult {
  taskId: number;
  exitIndex: number;
  exited: boolean;
  confidence: number;
  probabilities: Float32Array;
  decidedAt: number;
}

async function main() {
  const { modelDir, threads, answered } = workerData as { modelDir: string; threads: number; answered: SharedArrayBuffer };
  // Tasks below this id already have their answer: their queued heads are dropped, as the branch worker does.
  const answeredBelow = new Int32Array(answered);
  const model = await MultiExitModel.load(loadModelPackage(modelDir), 'cpu', threads, { segments: false, exits: 'early' });
  parentPort!.on('message', async (req: HeadRequest) => {
    if (req.taskId < Atomics.load(answeredBelow, 0)) return;
    const probabilities = await model.runExit(req.exitIndex, { data: req.data, dims: req.dims });
    const result: HeadResult = {
      taskId: req.taskId,
      exitIndex: req.exitIndex,
      exited: isConfident(probabilities, req.threshold),
      confidence: maxProbability(probabilities),
      probabilities,
      decidedAt: nowMs(),
    };
    parentPort!.postMessage(result);
  });
  parentPort!.postMessage('ready');
}

void main();
