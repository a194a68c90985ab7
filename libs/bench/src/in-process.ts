import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Placement, nowMs } from '@outlet/contracts';
import { ExecutionProvider, ExitDecision, Feature, MultiExitModel, TrunkSteps, argMax, localTrunkSteps, runTrunk } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { HeadRequest, HeadResult } from './branch-thread';
import { LabelledRequest } from './request-set';
import { Sample } from './http-driver';

/** How the in-process trunk runs an inline head: fused with its segment (as the system does), or as a call of its own. */
export interface InProcessRunOptions {
  /** Inline heads as two calls (segment, then head) instead of one fused call: the `serial-separate` baseline. */
  separateHeads?: boolean;
}

/** localTrunkSteps, but an inline head runs as a second onnxruntime call after its segment. */
function separateHeadSteps(model: MultiExitModel, input: Feature, handOff: (exitIndex: number, feature: Feature) => void): TrunkSteps {
  let feature = input;
  return {
    segmentCount: model.manifest.segments.length,
    exitAfterSegment: (s) => model.exitAfterSegment(s),
    finalExit: model.manifest.exits.length - 1,
    async runSegment(segment, { withExit, handOffExit }) {
      feature = await model.runSegment(segment, feature);
      const exit = withExit ? model.exitAfterSegment(segment) : undefined;
      const probabilities = exit === undefined ? undefined : await model.runExit(exit, feature);
      const decidedAt = nowMs();
      if (handOffExit !== undefined) handOff(handOffExit, feature);
      return { probabilities, decidedAt };
    },
  };
}

/**
 * The same plan logic without queues, HTTP or processes: the trunk in this thread (inline heads
 * fused with their segments), the branch heads in a worker thread, features passed by
 * postMessage, and a task answered at its first decision in time. What the system adds on top of
 * this is its overhead.
 */
export class InProcessRunner {
  private nextTask = 0;
  private current = -1;
  private firstExit?: HeadResult;
  private onBranchExit?: (hit: HeadResult) => void;
  /** The previous task's trunk, which may still finish a segment after its answer. */
  private trunkIdle: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly model: MultiExitModel,
    private readonly branch: Worker,
    private readonly answeredBelow: Int32Array,
  ) {
    branch.on('message', (m: HeadResult | 'ready') => {
      if (m === 'ready' || !m.exited || m.taskId !== this.current || this.firstExit) return;
      this.firstExit = m;
      this.onBranchExit?.(m);
    });
  }

  /** One task at a time (the baseline is measured at concurrency 1). */
  static async open(pkg: ModelPackage, ep: ExecutionProvider, threads: number, branchThreads = threads): Promise<InProcessRunner> {
    const model = await MultiExitModel.load(pkg, ep, threads, { fused: true });
    const answered = new SharedArrayBuffer(4);
    const branch = new Worker(join(__dirname, 'branch-thread.js'), { workerData: { modelDir: pkg.dir, threads: branchThreads, answered } });
    await new Promise<void>((resolve, reject) => {
      branch.once('message', () => resolve());
      branch.once('error', reject);
    });
    return new InProcessRunner(model, branch, new Int32Array(answered));
  }

  /**
   * One request: like the system at concurrency 1, it waits for the trunk to finish the previous
   * task's segment in flight, then runs; its latency ends at the first decision (a branch head's
   * or the trunk's own), stamped where it was made.
   */
  async run(request: LabelledRequest, plan: Placement[], options: InProcessRunOptions = {}): Promise<Sample> {
    const started = nowMs();
    await this.trunkIdle;
    const taskId = this.nextTask++;
    this.current = taskId;
    this.firstExit = undefined;
    const m = this.model.manifest;
    const thresholds = m.exits.map((e) => e.threshold);
    const branchDecision = (hit: HeadResult): ExitDecision => ({ ...hit, worker: 'branch' });
    let answer!: (d: ExitDecision) => void;
    const answered = new Promise<ExitDecision>((resolve) => (answer = resolve));
    this.onBranchExit = (hit) => answer(branchDecision(hit));
    const input = { data: request.pixels, dims: [1, ...m.input.shape.slice(1)] };
    const handOff = (exitIndex: number, feature: Feature) => {
      const message: HeadRequest = { taskId, exitIndex, data: feature.data.slice(), dims: feature.dims, threshold: thresholds[exitIndex] };
      this.branch.postMessage(message, [message.data.buffer as ArrayBuffer]);
    };
    const steps = options.separateHeads ? separateHeadSteps(this.model, input, handOff) : localTrunkSteps(this.model, input, handOff);
    const trunk = runTrunk(steps, plan, thresholds, { earlyExit: () => (this.firstExit ? branchDecision(this.firstExit) : undefined) });
    this.trunkIdle = trunk.then(
      () => Atomics.store(this.answeredBelow, 0, taskId + 1),
      () => undefined,
    );
    trunk.then((outcome) => answer(outcome.decision), () => undefined);
    const decision = await answered;
    const sample: Sample = {
      latencyMs: decision.decidedAt - started,
      correct: argMax(decision.probabilities) === request.label,
      exitIndex: decision.exitIndex,
      exitWorker: decision.worker,
      plan: plan.join(','),
      trunkEp: this.model.ep,
      taskId: `in-process-${taskId}`,
    };
    // The trunk's own record completes once it stops (the next request waits for that anyway).
    trunk.then((outcome) => {
      sample.trunkSegmentsRun = outcome.segmentsRan.length;
      sample.wastedSegments = outcome.segmentStarts.filter((t) => t > decision.decidedAt).length;
    }, () => undefined);
    return sample;
  }

  async close() {
    await this.branch.terminate();
    await this.model.release();
  }
}
