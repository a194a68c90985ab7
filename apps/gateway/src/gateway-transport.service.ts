import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AnswerMessage, INPUT_TTL_MS, InferJobData, JobName, TaskAnswer, answerChannel, answerKey, float32ToBuffer, inferQueueName } from '@outlet/contracts';
import { InjectRedis, duplicateConnection, parseAnswerMessage } from '@outlet/transport';
import { RedisAvailability } from './redis-availability.service';

export interface EnqueueOptions {
  /** Finished jobs kept per queue. */
  retention: number;
  /** BullMQ priority, 1 (highest) to MAX_PRIORITY. */
  priority: number;
  /** Waiting tasks at which the model's queue takes no more; 0: unbounded. */
  maxQueued: number;
}

/** Queued, or refused because the model already had `waiting` tasks waiting. */
export type EnqueueResult = { queued: true } | { queued: false; waiting: number };

/**
 * A progressive task's outcomes as they come (see GatewayTransport.expectProgressive): iterate with
 * `for await`; the iteration ends when the last one has come or the wait is over, and `complete`
 * then tells which.
 */
export class AnswerSequence implements AsyncIterable<AnswerMessage> {
  /** Every outcome expected came (false: the wait timed out, or was forgotten). */
  complete = false;
  private readonly arrived: AnswerMessage[] = [];
  private ended = false;
  private wake?: () => void;

  push(message: AnswerMessage): void {
    this.arrived.push(message);
    this.wake?.();
  }

  end(complete: boolean): void {
    this.complete = complete;
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AnswerMessage> {
    for (;;) {
      const message = this.arrived.shift();
      if (message) {
        yield message;
      } else if (this.ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    }
  }
}

/** An answer from the model's last exit: no continuation follows it. */
export const atFinalExit = (answer: TaskAnswer) => answer.exitIndex >= answer.exitCount - 1;

/**
 * The gateway's one way in and out of the queues: it enqueues tasks, and hears every synchronous
 * task's outcome on its own answer channel — the answer, published by whichever worker decided it,
 * or the failure, published by the trunk worker whose job failed. Every request-path call to Redis
 * goes through RedisAvailability, so it is refused with 503 rather than left waiting while Redis
 * is away.
 */
@Injectable()
export class GatewayTransport implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(GatewayTransport.name);
  /** This gateway's name on the answer channels. */
  readonly gatewayId = randomUUID();
  private readonly waiting = new Map<string, (message?: AnswerMessage) => void>();
  private readonly queues = new Map<string, Queue<InferJobData, TaskAnswer>>();
  /** Per model: the last admission under OUTLET_MAX_QUEUED (count, then add), which the next one waits for. */
  private readonly admissions = new Map<string, Promise<unknown>>();
  private subscriber?: Redis;

  constructor(
    private readonly moduleRef: ModuleRef,
    @InjectRedis() private readonly redis: Redis,
    private readonly availability: RedisAvailability,
  ) {}

  async onModuleInit() {
    this.subscriber = duplicateConnection(this.redis, 'answer subscriber');
    this.subscriber.on('message', (_channel, text: string) => {
      const message = parseAnswerMessage(text);
      if (!message) return this.logger.warn(`ignored a malformed answer: ${text.slice(0, 80)}`);
      this.waiting.get(message.taskId)?.(message);
    });
    await this.subscriber.subscribe(answerChannel(this.gatewayId));
    this.subscriber.on('ready', () => {
      this.recoverMissedAnswers().catch((err) => this.logger.warn(`could not read the answers missed while Redis was away: ${err.message}`));
    });
  }

  /**
   * After the subscriber reconnects: an answer published while it was away is lost as a message,
   * but its worker set it in the task's answer key before publishing (one Lua step). So subscribe
   * again (ioredis does too, but this tells when it is done), then read the key of every task
   * still waited for: whatever is decided after that arrives as a message.
   */
  private async recoverMissedAnswers(): Promise<void> {
    if (this.waiting.size === 0) return;
    await this.subscriber!.subscribe(answerChannel(this.gatewayId));
    const taskIds = [...this.waiting.keys()];
    // One GET per task: the answer keys sit in their tasks' hash slots, and a cluster refuses
    // an MGET across slots (CROSSSLOT).
    const stored = await Promise.all(taskIds.map((taskId) => this.redis.get(answerKey(taskId))));
    taskIds.forEach((taskId, i) => {
      const message = stored[i] === null ? undefined : parseAnswerMessage(stored[i]!);
      if (message) this.waiting.get(taskId)?.(message);
    });
  }

  async onApplicationShutdown() {
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** The model's inference queue (registered with BullModule; looked up once). */
  queue(model: string): Queue<InferJobData, TaskAnswer> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = this.moduleRef.get<Queue<InferJobData, TaskAnswer>>(getQueueToken(inferQueueName(model)), { strict: false });
      this.queues.set(model, queue);
    }
    return queue;
  }

  /**
   * Put a task on its model's queue (the job id is the task id), its input values beside it as
   * one binary value. Both go on this one connection, in order: the value is there before the job.
   *
   * With `maxQueued` > 0 the model's waiting tasks are counted first, and this gateway's
   * admissions to one model take turns (count, then add), so a burst of concurrent requests can
   * neither all pass one count nor count a task twice (once added, once in flight): at the bound
   * the task is not queued and its value is removed. A turn costs one add's round trip (~0.3 ms
   * on loopback). Other gateways' admissions in flight are not seen, so with several gateways the
   * bound can be overshot by those.
   */
  enqueue(taskId: string, data: InferJobData, input: Float32Array, options: EnqueueOptions): Promise<EnqueueResult> {
    return this.availability.call(`task ${taskId} was not queued`, async () => {
      const stored = this.redis.set(data.input.key, float32ToBuffer(input), 'PX', INPUT_TTL_MS);
      // Awaited below; if an earlier step throws first, its failure must not go unhandled.
      stored.catch(() => undefined);
      const model = data.model;
      const queue = this.queue(model);
      const add = () =>
        queue.add(JobName.Infer, data, {
          jobId: taskId,
          priority: options.priority,
          removeOnComplete: { count: options.retention },
          removeOnFail: { count: options.retention },
        });
      // On a cluster the input (its task's slot) and the job (its queue's slot) are on different
      // masters, unordered: a trunk could take the job before a retried SET lands. Input first there;
      // on one server (or a Sentinel primary) one connection keeps them in order already.
      if ((this.redis as Redis & { isCluster?: boolean }).isCluster) await stored;
      if (options.maxQueued <= 0) {
        await Promise.all([stored, add()]);
        return { queued: true };
      }
      const turn = (this.admissions.get(model) ?? Promise.resolve()).then(async (): Promise<EnqueueResult> => {
        const waiting = await queue.count();
        if (waiting >= options.maxQueued) return { queued: false, waiting };
        await add();
        return { queued: true };
      });
      this.admissions.set(model, turn.catch(() => undefined));
      const result = await turn;
      await stored;
      if (!result.queued) this.redis.del(data.input.key).catch(() => undefined);
      return result;
    });
  }

  /**
   * Redis WAIT: how many replicas confirmed every write this gateway made so far (a task's input
   * and job among them), within `timeoutMs`. On a cluster, the least over its masters (each has
   * its own replicas; the task's input and job may be on two of them).
   */
  async confirmedReplicas(replicas: number, timeoutMs: number): Promise<number> {
    const redis = this.redis as Redis & { isCluster?: boolean; nodes?: (role: 'master') => Redis[] };
    const masters = redis.isCluster && redis.nodes ? redis.nodes('master') : [redis];
    const counts = await Promise.all(masters.map((m) => m.call('WAIT', replicas, timeoutMs) as Promise<number>));
    return Math.min(...counts.map(Number));
  }

  /**
   * Expect a task's outcome on this gateway's answer channel (call before enqueueing it: the answer
   * may come back before the enqueue call returns). Resolves undefined after `timeoutMs`.
   */
  expect(taskId: string, timeoutMs: number): Promise<AnswerMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeoutMs);
      const settle = (message?: AnswerMessage) => {
        // Only a progressive task is continued; its waiter is expectProgressive.
        if (message?.continuation) return;
        clearTimeout(timer);
        this.waiting.delete(taskId);
        resolve(message);
      };
      this.waiting.set(taskId, settle);
    });
  }

  /**
   * Expect a progressive task's outcomes (call before enqueueing it): the first (its answer or
   * failure) and, after an answer from an early exit, the final exit's answer (the continuation).
   * The wait ends at the last of them or after `timeoutMs`, both counted from now.
   */
  expectProgressive(taskId: string, timeoutMs: number): AnswerSequence {
    const sequence = new AnswerSequence();
    let first: AnswerMessage | undefined;
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (complete: boolean) => {
      clearTimeout(timer);
      this.waiting.delete(taskId);
      sequence.end(complete);
    };
    this.waiting.set(taskId, (message?: AnswerMessage) => {
      if (!message) return finish(false);
      if (!first) {
        first = message;
        sequence.push(message);
        // A continuation first: the early answer was lost while the subscriber was away (and is
        // being read back by recoverMissedAnswers); the final answer is the last all the same.
        if (message.error !== undefined || message.continuation || atFinalExit(message.answer)) finish(true);
      } else if (message.continuation) {
        sequence.push(message);
        finish(true);
      }
      // Else the first outcome again, read back by recoverMissedAnswers after a reconnection.
    });
    return sequence;
  }

  /** Stop waiting for a task (its enqueue failed). */
  forget(taskId: string): void {
    this.waiting.get(taskId)?.();
  }

  /** A task's state and record, from whichever model queue holds it. */
  findJob(models: string[], id: string): Promise<{ model: string; state: string; job?: Job<InferJobData, TaskAnswer> } | undefined> {
    return this.availability.call(`job ${id} could not be looked up`, () => this.findJobIn(models, id));
  }

  private async findJobIn(models: string[], id: string): Promise<{ model: string; state: string; job?: Job<InferJobData, TaskAnswer> } | undefined> {
    for (const model of models) {
      const queue = this.queue(model);
      // State first, then the job: a job read first may complete in between, without its result.
      const state = await queue.getJobState(id);
      if (state === 'unknown') continue;
      if (state !== 'completed' && state !== 'failed') return { model, state };
      const job = await Job.fromId<InferJobData, TaskAnswer>(queue, id);
      if (job) return { model, state, job }; // else removed by retention just now
    }
    return undefined;
  }

  /** Redis answers a PING (readiness). */
  async ping(): Promise<void> {
    await this.availability.call('PING', () => this.redis.ping());
  }
}
