import { Inject, Type } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { BranchJobData, BranchResult, branchQueueName } from '@outlet/contracts';
import { ExitHeadRunner } from './exit-head.runner';
import { BranchTransport } from './branch-transport.service';

/** The processor of this node's branch queue (its name carries the NODE_ID, known at start-up). */
export function exitHeadProcessorFor(nodeId: string, concurrency: number): Type<WorkerHost> {
  @Processor(branchQueueName(nodeId), { concurrency })
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
