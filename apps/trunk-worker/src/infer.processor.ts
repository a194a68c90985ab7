import { Inject, Type } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { InferJobData, TaskAnswer, inferQueueName } from '@outlet/contracts';
import { TrunkTaskRunner } from './trunk-task.runner';
import { TrunkTransport } from './trunk-transport.service';

/**
 * A BullMQ processor for one model's inference queue. Queue names depend on the models found at
 * start-up, so the decorated class is made per model.
 */
export function inferProcessorFor(model: string, concurrency: number): Type<WorkerHost> {
  @Processor(inferQueueName(model), { concurrency })
  class InferProcessor extends WorkerHost {
    constructor(
      @Inject(TrunkTaskRunner) private readonly runner: TrunkTaskRunner,
      @Inject(TrunkTransport) private readonly transport: TrunkTransport,
    ) {
      super();
    }

    process(job: Job<InferJobData, TaskAnswer>): Promise<TaskAnswer> {
      return this.runner.run(job);
    }

    /** A gateway waiting for a failed task hears why at once. */
    @OnWorkerEvent('failed')
    onFailed(job: Job<InferJobData> | undefined, error: Error) {
      const replyTo = job?.data?.replyTo;
      if (job?.id && typeof replyTo === 'string') this.transport.publishFailure(replyTo, job.id, error.message);
    }
  }
  Object.defineProperty(InferProcessor, 'name', { value: `InferProcessor[${model}]` });
  return InferProcessor;
}
