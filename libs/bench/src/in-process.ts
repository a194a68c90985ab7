import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Placement, nowMs } from '@outlet/contracts';
import { ExecutionProvider, ExitDecision, Feature, MultiExitModel, argMax, localTrunkSteps, runTrunk } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { DecisionBoard, HeadRequest } from './branch-thread';
import { LabelledRequest } from './request-set';
import { Sample } from './http-driver';

/** How the in-process trunk runs an inline head: fused with its segment (as the system does), or as a call of its own. */
export interface InProcessRunOptions {
  /** Inline heads as two calls (segment, then head) instead of one fused call: the `serial-separate` baseline. */
  separateHeads?: boolean;
}

/**
 * The same plan logic without queues, HTTP or processes: the trunk in this thread (inline heads
 * fused with their segments), the branch heads in a worker thread (features passed by
 * postMessage, decisions posted to shared memory), and a task answered at its first decision in
 * time. What the system adds on top of this is its overhead.
 */
export class InProcessRunner {
  private nextTask = 0;
  /** How long the previous task's trunk ran on after its answer: the next request waits that long, as in the system. */
  private carryMs = 0;

  private constructor(
    private readonly model: MultiExitModel,
    private readonly branch: Worker,
    private readonly board: DecisionBoard,
  ) {}

  /** One task at a time (the baseline is measured at concurrency 1). */
  static async open(pkg: ModelPackage, ep: ExecutionProvider, threads: number, branchThreads = threads): Promise<InProcessRunner> {
    const model = await MultiExitModel.load(pkg, ep, threads, { fused: true });
    const classes = pkg.manifest.output.shape.slice(1).reduce((n, d) => n * Math.max(1, d), 1);
    const board = DecisionBoard.create(classes);
    const branch = new Worker(join(__dirname, 'branch-thread.js'), { workerData: { modelDir: pkg.dir, threads: branchThreads, board: board.buffer } });
    await new Promise<void>((resolve, reject) => {
      branch.once('message', () => resolve());
      branch.once('error', reject);
    });
    return new InProcessRunner(model, branch, board);
  }

  /**
   * One request. Its latency ends at the first decision (a branch head's or the trunk's own),
   * stamped where it was made, and starts as a closed-loop client's would: when the previous
   * answer came, so it includes waiting for a trunk that ran on after that answer.
   */
  async run(request: LabelledRequest, plan: Placement[], options: InProcessRunOptions = {}): Promise<Sample> {
    const started = nowMs() - this.carryMs;
    const taskId = this.nextTask++;
    const m = this.model.manifest;
    const thresholds = m.exits.map((e) => e.threshold);
    const input = { data: request.pixels, dims: [1, ...m.input.shape.slice(1)] };
    const handOff = (exitIndex: number, feature: Feature) => {
      const message: HeadRequest = { taskId, exitIndex, data: feature.data.slice(), dims: feature.dims, threshold: thresholds[exitIndex] };
      this.branch.postMessage(message, [message.data.buffer as ArrayBuffer]);
    };
    const steps = localTrunkSteps(this.model, input, handOff, { separateHeads: options.separateHeads });
    const heard = (): ExitDecision | undefined => {
      const hit = this.board.read(taskId);
      return hit && { ...hit, worker: 'branch' };
    };
    const outcome = await runTrunk(steps, plan, thresholds, { earlyExit: heard });
    this.board.answerBelow(taskId + 1);
    const decision = outcome.decision;
    this.carryMs = Math.max(0, outcome.trunkStoppedAt - decision.decidedAt);
    return {
      latencyMs: decision.decidedAt - started,
      correct: argMax(decision.probabilities) === request.label,
      exitIndex: decision.exitIndex,
      exitWorker: decision.worker,
      plan: plan.join(','),
      trunkEp: this.model.ep,
      taskId: `in-process-${taskId}`,
      trunkSegmentsRun: outcome.segmentsRan.length,
      wastedSegments: outcome.segmentStarts.filter((t) => t > decision.decidedAt).length,
    };
  }

  async close() {
    await this.branch.terminate();
    await this.model.release();
  }
}
