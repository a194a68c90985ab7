import { Inject, Type } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { InferJobData, InferResult, inferQueueName } from '@outlet/contracts';
import { TrunkTaskRunner } from './trunk-task.runner';

/**
 * A BullMQ processor for one model's inference queue. Queue names depend on the models found at
 * start-up, so the decorated class is made per model.
 */
export function inferProcessorFor(model: string, concurrency: number): Type<WorkerHost> {
  @Processor(inferQueueName(model), { concurrency })
  class InferProcessor extends WorkerHost {
    constructor(@Inject(TrunkTaskRunner) private readonly runner: TrunkTaskRunner) {
      super();
    }

    process(job: Job<InferJobData, InferResult>): Promise<InferResult> {
      return this.runner.run(job);
    }
  }
  Object.defineProperty(InferProcessor, 'name', { value: `InferProcessor[${model}]` });
  return InferProcessor;
}
