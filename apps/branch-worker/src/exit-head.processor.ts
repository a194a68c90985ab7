import { Inject, Type } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { BranchJobData, BranchResult, branchQueueName } from '@outlet/contracts';
import { ExitHeadRunner } from './exit-head.runner';

/** The processor of this node's branch queue (its name carries the NODE_ID, known at start-up). */
export function exitHeadProcessorFor(nodeId: string, concurrency: number): Type<WorkerHost> {
  @Processor(branchQueueName(nodeId), { concurrency })
  class ExitHeadProcessor extends WorkerHost {
    constructor(@Inject(ExitHeadRunner) private readonly runner: ExitHeadRunner) {
      super();
    }

    process(job: Job<BranchJobData, BranchResult>): Promise<BranchResult> {
      return this.runner.run(job);
    }
  }
  return ExitHeadProcessor;
}
