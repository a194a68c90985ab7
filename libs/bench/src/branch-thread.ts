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

/**
 * Where the head thread posts a task's first confident decision, readable by the trunk's thread at
 * once (Atomics), even while a segment holds that thread's event loop — as the trunk worker's main
 * thread hears a branch answer while its model thread runs a segment.
 */
export class DecisionBoard {
  readonly control: Int32Array; // [answered below, decided task + 1, exit index]
  readonly times: Float64Array; // [decidedAt, confidence]
  readonly probabilities: Float32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, 4);
    this.times = new Float64Array(buffer, 16, 2);
    this.probabilities = new Float32Array(buffer, 32);
  }

  static create(classes: number): DecisionBoard {
    return new DecisionBoard(new SharedArrayBuffer(32 + 4 * classes));
  }

  /** Record a task's first confident decision (later ones of the same task are later in time). */
  post(taskId: number, exitIndex: number, probabilities: Float32Array, decidedAt: number): void {
    if (Atomics.load(this.control, 1) === taskId + 1) return;
    this.probabilities.set(probabilities);
    this.times[0] = decidedAt;
    this.times[1] = maxProbability(probabilities);
    this.control[2] = exitIndex;
    Atomics.store(this.control, 1, taskId + 1);
  }

  /** The task's branch decision, if one was posted. */
  read(taskId: number): { exitIndex: number; probabilities: Float32Array; confidence: number; decidedAt: number } | undefined {
    if (Atomics.load(this.control, 1) !== taskId + 1) return undefined;
    return { exitIndex: this.control[2], probabilities: this.probabilities.slice(), confidence: this.times[1], decidedAt: this.times[0] };
  }

  /** Tasks below this id have their answer: their queued heads are dropped, as the branch worker does. */
  answerBelow(taskId: number): void {
    Atomics.store(this.control, 0, taskId);
  }

  isAnswered(taskId: number): boolean {
    return taskId < Atomics.load(this.control, 0);
  }
}

async function main() {
  const { modelDir, threads, board: buffer } = workerData as { modelDir: string; threads: number; board: SharedArrayBuffer };
  const board = new DecisionBoard(buffer);
  const model = await MultiExitModel.load(loadModelPackage(modelDir), 'cpu', threads, { segments: false, exits: 'early' });
  parentPort!.on('message', async (req: HeadRequest) => {
    if (board.isAnswered(req.taskId)) return;
    const probabilities = await model.runExit(req.exitIndex, { data: req.data, dims: req.dims });
    if (isConfident(probabilities, req.threshold)) board.post(req.taskId, req.exitIndex, probabilities, nowMs());
  });
  parentPort!.postMessage('ready');
}

if (parentPort && workerData?.board) void main();
