import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Placement } from '@outlet/contracts';
import { ExecutionProvider, ExitDecision, MultiExitModel, argMax, runTrunk } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { HeadRequest, HeadResult } from './branch-thread';
import { LabelledRequest } from './request-set';
import { Sample } from './http-driver';

/**
 * The same plan logic without queues, HTTP or processes: the trunk in this thread, the branch
 * heads in a worker thread, features passed by postMessage. What the system adds on top of this is
 * its overhead.
 */
export class InProcessRunner {
  private nextTask = 0;
  private current = -1;
  private firstExit?: HeadResult;

  private constructor(
    private readonly model: MultiExitModel,
    private readonly branch: Worker,
    private readonly answeredBelow: Int32Array,
  ) {
    branch.on('message', (m: HeadResult | 'ready') => {
      if (m === 'ready') return;
      if (m.exited && m.taskId === this.current && !this.firstExit) this.firstExit = m;
    });
  }

  /** One task at a time (the baseline is measured at concurrency 1). */
  static async open(pkg: ModelPackage, ep: ExecutionProvider, threads: number): Promise<InProcessRunner> {
    const model = await MultiExitModel.load(pkg, ep, threads);
    const answered = new SharedArrayBuffer(4);
    const branch = new Worker(join(__dirname, 'branch-thread.js'), { workerData: { modelDir: pkg.dir, threads, answered } });
    await new Promise<void>((resolve, reject) => {
      branch.once('message', () => resolve());
      branch.once('error', reject);
    });
    return new InProcessRunner(model, branch, new Int32Array(answered));
  }

  async run(request: LabelledRequest, plan: Placement[]): Promise<Sample> {
    const taskId = this.nextTask++;
    this.current = taskId;
    this.firstExit = undefined;
    const m = this.model.manifest;
    const thresholds = m.exits.map((e) => e.threshold);
    const started = performance.now();
    const outcome = await runTrunk(this.model, { data: request.pixels, dims: [1, ...m.input.shape.slice(1)] }, plan, thresholds, {
      handOff: (exitIndex, feature) => {
        const message: HeadRequest = { taskId, exitIndex, data: feature.data.slice(), dims: feature.dims, threshold: thresholds[exitIndex] };
        this.branch.postMessage(message, [message.data.buffer as ArrayBuffer]);
      },
      pollEarlyExit: async () => {
        await yieldToEventLoop();
        const hit = this.firstExit;
        if (!hit) return undefined;
        const decision: ExitDecision = { ...hit, worker: 'branch' };
        return decision;
      },
    });
    const latencyMs = performance.now() - started;
    Atomics.store(this.answeredBelow, 0, taskId + 1);
    const { decision } = outcome;
    return {
      latencyMs,
      correct: argMax(decision.probabilities) === request.label,
      exitIndex: decision.exitIndex,
      exitWorker: decision.worker,
      trunkSegmentsRun: outcome.segmentsRan.length,
      wastedSegments: outcome.segmentsAfterAnswer,
      plan: plan.join(','),
      taskId: `in-process-${taskId}`,
    };
  }

  async close() {
    await this.branch.terminate();
    await this.model.release();
  }
}
