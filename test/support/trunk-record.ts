import { Job, Queue, QueueEvents } from 'bullmq';
import { TaskAnswer, TrunkTelemetry, inferQueueName } from '@outlet/contracts';
import { queueOptions } from '@outlet/config';

/**
 * Reads what the trunk worker recorded of a task: the job's answer and its telemetry log line. The
 * HTTP answer can come before the trunk stops; this waits for the job itself to finish.
 */
export class TrunkRecords {
  private readonly queue: Queue;
  private readonly events: QueueEvents;

  constructor(redisUrl: string, model: string) {
    this.queue = new Queue(inferQueueName(model), queueOptions(inferQueueName(model), redisUrl));
    this.events = new QueueEvents(inferQueueName(model), queueOptions(inferQueueName(model), redisUrl));
  }

  async ready(): Promise<this> {
    await this.events.waitUntilReady();
    return this;
  }

  async of(taskId: string): Promise<{ answer: TaskAnswer; telemetry: TrunkTelemetry }> {
    const job = await Job.fromId<unknown, TaskAnswer>(this.queue, taskId);
    if (!job) throw new Error(`no job ${taskId}`);
    const answer = await job.waitUntilFinished(this.events, 30_000);
    const { logs } = await this.queue.getJobLogs(taskId);
    if (logs.length === 0) throw new Error(`job ${taskId} has no telemetry`);
    return { answer, telemetry: JSON.parse(logs[logs.length - 1]) as TrunkTelemetry };
  }

  async close() {
    await this.events.close();
    await this.queue.close();
  }
}
