import { Inject, Type } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobLockOptions } from '@outlet/config';
import { InferJobData, TaskAnswer, inferQueueName } from '@outlet/contracts';
import { ModelPackage } from '@outlet/model-package';
import { TRUNK_PACKAGES } from './tokens';
import { TrunkTaskRunner } from './trunk-task.runner';
import { TrunkTransport } from './trunk-transport.service';
import { UncomputableInputError } from './infer-job';
import { InFlightTasks } from './in-flight-tasks';

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
      @Inject(InFlightTasks) private readonly inFlight: InFlightTasks,
    ) {
      super();
    }

    process(job: Job<InferJobData, TaskAnswer>): Promise<TaskAnswer> {
      return this.inFlight.track(() => this.runner.run(job));
    }

    /** A gateway waiting for a failed task hears why at once. */
    @OnWorkerEvent('failed')
    onFailed(job: Job<InferJobData> | undefined, error: Error) {
      const replyTo = job?.data?.replyTo;
      if (job?.id && typeof replyTo === 'string') this.transport.publishFailure(replyTo, job.id, error.message, error instanceof UncomputableInputError);
      const version = this.packages.get(model)?.manifest.version;
      if (version !== undefined) this.transport.countFailure(model, version);
    }
  }
  Object.defineProperty(InferProcessor, 'name', { value: `InferProcessor[${model}]` });
  return InferProcessor;
}
