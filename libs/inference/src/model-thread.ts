import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ExecutionProvider } from './execution-provider';
import { Feature } from './multi-exit-model';
import type { ThreadReply, ThreadRequest, ThreadSetup } from './model-thread.worker';

export interface SegmentRequest {
  model: string;
  taskId: string;
  segment: number;
  /** The task's input, for its first segment; later segments continue from the feature the thread keeps. */
  input?: Feature;
  /** Run the exit head that follows the segment in the same call (a fused graph). */
  withExit: boolean;
  /** Hand the segment's output off: write it to this file (shared memory), or else return its values. */
  handOff?: { file?: string };
}

export interface SegmentResult {
  /** With `withExit`: the head's probabilities, and when they were known. */
  probabilities?: Float32Array;
  decidedAt: number;
  /** How long the onnxruntime call took in the thread (the segment, fused with its head `withExit`). */
  ranMs: number;
  /** With `handOff` and no file: the feature's values, to send another way. */
  feature?: Feature;
}

/**
 * onnxruntime sessions in a worker thread of their own. `session.run()` runs synchronously on the
 * calling thread, so a process that runs models on its main thread cannot hear Redis, renew its
 * BullMQ locks or beat its heartbeat while a segment runs. Features stay in the thread between a
 * task's segments; only what the caller needs (probabilities, a hand-off) crosses over.
 */
export class ModelThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: Error) => void }>();
  private failure?: Error;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    readonly ep: ExecutionProvider,
    onFailure?: (err: Error) => void,
  ) {
    worker.on('message', (reply: ThreadReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply);
    });
    const fail = (err: Error) => {
      if (this.failure || this.closing) return;
      this.failure = new Error(`inference thread stopped: ${err.message}`);
      // The owner decides first (a worker process exits, so its tasks stay queued for another).
      onFailure?.(this.failure);
      for (const w of this.pending.values()) w.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  /**
   * Start the thread and open the models; resolves once every session is open. `onFailure` hears
   * it if the thread dies later (before the calls in flight are rejected).
   */
  static async start(setup: ThreadSetup, onLog: (line: string) => void = () => undefined, onFailure?: (err: Error) => void): Promise<ModelThread> {
    const worker = new Worker(join(__dirname, 'model-thread.worker.js'), { workerData: setup });
    const ep = await new Promise<ExecutionProvider>((resolve, reject) => {
      const onMessage = (m: { log?: string; ready?: ExecutionProvider; failed?: string }) => {
        if (m.log) onLog(m.log);
        if (m.ready) done(() => resolve(m.ready!));
        if (m.failed) done(() => reject(new Error(m.failed)));
      };
      const onError = (err: Error) => done(() => reject(err));
      const done = (settle: () => void) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        settle();
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
    return new ModelThread(worker, ep, onFailure);
  }

  private call(request: ThreadRequest, transfer: ArrayBuffer[] = []): Promise<ThreadReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  /** Run one segment of a task (and its exit head, fused, when asked). */
  async runSegment(r: SegmentRequest): Promise<SegmentResult> {
    const reply = await this.call({ id: this.nextId++, op: 'segment', ...r });
    return { probabilities: reply.probabilities, decidedAt: reply.decidedAt!, ranMs: reply.ranMs!, feature: reply.feature };
  }

  /** Run an early exit head on a feature (the branch worker's work). */
  async runExit(model: string, exitIndex: number, feature: Feature): Promise<{ probabilities: Float32Array; decidedAt: number; ranMs: number }> {
    const buffer = feature.data.buffer as ArrayBuffer;
    const whole = feature.data.byteOffset === 0 && feature.data.byteLength === buffer.byteLength;
    const reply = await this.call({ id: this.nextId++, op: 'exit', model, exitIndex, input: feature }, whole ? [buffer] : []);
    return { probabilities: reply.probabilities!, decidedAt: reply.decidedAt!, ranMs: reply.ranMs! };
  }

  /** Forget a task's feature in the thread (its trunk is done). */
  endTask(taskId: string): void {
    if (!this.failure) this.worker.postMessage({ id: -1, op: 'end', taskId } satisfies ThreadRequest);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
