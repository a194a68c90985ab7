import { Inject, Type } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobLockOptions } from '@outlet/config';
import { BranchJobData, BranchResult, branchQueueName, queuePrefix } from '@outlet/contracts';
import { ExitHeadRunner } from './exit-head.runner';
import { BranchTransport } from './branch-transport.service';

/**
 * The processor of this node's branch queue (its name carries the NODE_ID, known at start-up).
 * `locks` (subjobLockOptions, from OUTLET_LOCK_MS): a subjob of a branch worker that died is never
 * run again (maxStalledCount 0): a live branch worker fails it, or the node's trunk, which runs
 * the queue's stalled check too, drops it when none is left; its task is answered by the trunk.
 */
export function exitHeadProcessorFor(nodeId: string, concurrency: number, locks: JobLockOptions): Type<WorkerHost> {
  @Processor(branchQueueName(nodeId), { concurrency, ...locks, prefix: queuePrefix(branchQueueName(nodeId)) })
  class ExitHeadProcessor extends WorkerHost {
    constructor(
      @Inject(ExitHeadRunner) private readonly runner: ExitHeadRunner,
      @Inject(BranchTransport) private readonly transport: BranchTransport,
    ) {
      super();
    }

    async process(job: Job<BranchJobData, BranchResult>): Promise<BranchResult> {
      const result = await this.runner.run(job);
      this.transport.countSubjob(job.data, result);
      return result;
    }
  }
  return ExitHeadProcessor;
}
