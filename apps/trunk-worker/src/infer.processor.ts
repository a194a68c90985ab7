import { Inject, Type } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobLockOptions } from '@outlet/config';
import { InferJobData, TaskAnswer, inferQueueName } from '@outlet/contracts';
import { ModelPackage } from '@outlet/model-package';
import { TRUNK_PACKAGES } from './tokens';
import { TrunkTaskRunner } from './trunk-task.runner';
import { TrunkTransport } from './trunk-transport.service';
import { DeadlineExpiredError, UncomputableInputError } from './infer-job';

/**
 * A BullMQ processor for one model's inference queue. Queue names depend on the models found at
 * start-up, so the decorated class is made per model. `locks` (from OUTLET_LOCK_MS) decide how soon
 * a live trunk takes over the tasks of a dead one (see jobLockOptions).
 */
export function inferProcessorFor(model: string, concurrency: number, locks: JobLockOptions): Type<WorkerHost> {
  @Processor(inferQueueName(model), { concurrency, ...locks })
  class InferProcessor extends WorkerHost {
    constructor(
      @Inject(TrunkTaskRunner) private readonly runner: TrunkTaskRunner,
      @Inject(TrunkTransport) private readonly transport: TrunkTransport,
      @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
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
      const expired = error instanceof DeadlineExpiredError;
      if (job?.id && typeof replyTo === 'string') this.transport.publishFailure(replyTo, job.id, error.message, { inputFault: error instanceof UncomputableInputError, deadlineExpired: expired });
      // A synchronous caller's expiry is counted by its gateway (it answered 504), not twice.
      const version = this.packages.get(model)?.manifest.version;
      if (version !== undefined && !(expired && typeof replyTo === 'string')) this.transport.countFailure(model, version);
    }
  }
  Object.defineProperty(InferProcessor, 'name', { value: `InferProcessor[${model}]` });
  return InferProcessor;
}
