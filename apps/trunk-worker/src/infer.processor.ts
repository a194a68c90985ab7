import { Inject, Type } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobLockOptions } from '@outlet/config';
import { InferJobData, TaskAnswer, inferQueueName, queuePrefix } from '@outlet/contracts';
import { ModelPackage } from '@outlet/model-package';
import { TRUNK_PACKAGES } from './tokens';
import { TrunkTaskRunner } from './trunk-task.runner';
import { TrunkTransport } from './trunk-transport.service';
import { DeadlineExpiredError, UncomputableInputError } from './infer-job';
import { InFlightTasks } from './in-flight-tasks';

/**
 * A BullMQ processor for one model's inference queue. Queue names depend on the models found at
 * start-up, so the decorated class is made per model. `locks` (from OUTLET_LOCK_MS) decide how soon
 * a live trunk takes over the tasks of a dead one (see jobLockOptions).
 */
export function inferProcessorFor(model: string, concurrency: number, locks: JobLockOptions): Type<WorkerHost> {
  @Processor(inferQueueName(model), { concurrency, ...locks, prefix: queuePrefix(inferQueueName(model)) })
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

    /**
     * BullMQ has recorded the task as completed: its input is not needed again. Not sooner: when
     * that record fails (the job's lock lapsed while Redis was away), BullMQ's stalled-job recovery
     * runs the task again, and the re-run needs the input (a crash leaves it too; it expires in 24 h).
     */
    @OnWorkerEvent('completed')
    onCompleted(job: Job<InferJobData>) {
      this.releaseInputOf(job);
    }

    /** A gateway waiting for a failed task hears why at once; failed is final (jobs are not retried). */
    @OnWorkerEvent('failed')
    onFailed(job: Job<InferJobData> | undefined, error: Error) {
      if (job) this.releaseInputOf(job);
      const replyTo = job?.data?.replyTo;
      const expired = error instanceof DeadlineExpiredError;
      if (job?.id && typeof replyTo === 'string') this.transport.publishFailure(replyTo, job.id, error.message, { inputFault: error instanceof UncomputableInputError, deadlineExpired: expired });
      // A synchronous caller's expiry is counted by its gateway (it answered 504), not twice.
      const version = this.packages.get(model)?.manifest.version;
      if (version !== undefined && !(expired && typeof replyTo === 'string')) this.transport.countFailure(model, version);
    }

    private releaseInputOf(job: Job<InferJobData>) {
      if (typeof job.data?.input?.key === 'string') this.transport.releaseInput(job.data.input.key);
    }
  }
  Object.defineProperty(InferProcessor, 'name', { value: `InferProcessor[${model}]` });
  return InferProcessor;
}
