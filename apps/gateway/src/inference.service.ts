import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import {
  InferJobData,
  InferResult,
  JobName,
  answerChannel,
  float32ToBase64,
  inferQueueName,
  nowMs,
} from '@outlet/contracts';
import { GatewaySettings, bullConnection } from '@outlet/config';
import { ModelCatalog } from './model-catalog.service';
import { RequestError, ValidInferRequest } from './inference-request';
import { toOipResponse } from './oip-response';
import { GATEWAY_SETTINGS } from './tokens';

/** Puts tasks on the models' inference queues and hears back when they finish. */
@Injectable()
export class InferenceService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InferenceService.name);
  private readonly events = new Map<string, QueueEvents>();
  private readonly queues = new Map<string, Queue<InferJobData, InferResult>>();
  /** This gateway's name on the answer channel, and the synchronous requests waiting on it. */
  private readonly gatewayId = randomUUID();
  private readonly waiting = new Map<string, (result: InferResult) => void>();
  private subscriber: Redis;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly catalog: ModelCatalog,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  async onModuleInit() {
    for (const model of this.catalog.names()) {
      const events = new QueueEvents(inferQueueName(model), { connection: bullConnection(this.settings.redisUrl) });
      events.on('error', (err) => this.logger.warn(`queue events of ${model}: ${err.message}`));
      this.events.set(model, events);
    }
    await Promise.all([...this.events.values()].map((e) => e.waitUntilReady()));
    this.subscriber = new Redis(this.settings.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber.on('message', (_channel, message: string) => {
      try {
        const result = JSON.parse(message) as InferResult;
        this.waiting.get(result.taskId)?.(result);
      } catch {
        this.logger.warn(`ignored a malformed answer: ${message.slice(0, 80)}`);
      }
    });
    await this.subscriber.subscribe(answerChannel(this.gatewayId));
  }

  async onApplicationShutdown() {
    await Promise.all([...this.events.values()].map((e) => e.close()));
    await this.subscriber?.quit().catch(() => undefined);
  }

  /** The model's inference queue (registered with BullModule; looked up once, not per request). */
  queue(model: string): Queue<InferJobData, InferResult> {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = this.moduleRef.get<Queue<InferJobData, InferResult>>(getQueueToken(inferQueueName(model)), { strict: false });
      this.queues.set(model, queue);
    }
    return queue;
  }

  /** Enqueue one task; the job id is the task id. */
  async enqueue(model: string, request: ValidInferRequest, taskId = randomUUID(), replyTo?: string): Promise<Job<InferJobData, InferResult>> {
    const data: InferJobData = {
      model,
      requestId: request.id ?? taskId,
      input: {
        name: this.catalog.get(model).manifest.input.name,
        shape: request.shape,
        datatype: 'FP32',
        dataBase64: float32ToBase64(request.data),
      },
      plan: request.plan ?? this.settings.defaultPlan,
      planSource: request.plan ? 'request' : 'default',
      threshold: request.threshold,
      enqueuedAt: nowMs(),
      replyTo,
    };
    return this.queue(model).add(JobName.Infer, data, {
      jobId: taskId,
      removeOnComplete: { count: this.settings.jobRetention },
      removeOnFail: { count: this.settings.jobRetention },
    });
  }

  /** Run a task and wait for its answer (synchronous `/infer`). */
  async infer(model: string, request: ValidInferRequest, receivedAt: number) {
    // The answer comes on this gateway's answer channel; BullMQ's completion (or failure) event
    // is the fallback, and the only way a failed task is heard.
    const taskId = randomUUID();
    const published = new Promise<InferResult>((resolve) => this.waiting.set(taskId, resolve));
    let result: InferResult;
    let job: Job<InferJobData, InferResult> | undefined;
    try {
      job = await this.enqueue(model, request, taskId, this.gatewayId);
      result = await Promise.race([published, job.waitUntilFinished(this.events.get(model)!, this.settings.inferTimeoutMs)]);
    } catch (err) {
      if (!job) throw err;
      const message = (err as Error).message;
      if (/timed out/i.test(message)) {
        throw new RequestError(504, `task ${job.id} did not finish within ${this.settings.inferTimeoutMs} ms (is a trunk worker serving '${model}'?); poll GET /v1/jobs/${job.id}`);
      }
      throw new RequestError(500, `task ${job.id} failed: ${message}`);
    } finally {
      this.waiting.delete(taskId);
    }
    const answeredAt = nowMs();
    const clock = { receivedAt, enqueuedAt: job.data.enqueuedAt, answeredAt };
    return toOipResponse(result, answeredAt - receivedAt, this.catalog.get(model).manifest.labels, clock);
  }

  /** The state of an asynchronous task, with its answer once done. */
  async jobStatus(id: string) {
    for (const model of this.catalog.names()) {
      const queue = this.queue(model);
      // State first, then the job: a job read first may complete in between, without its result.
      const state = await queue.getJobState(id);
      if (state === 'unknown') continue;
      const base = { id, model, state };
      if (state !== 'completed' && state !== 'failed') return base;
      const job = await Job.fromId<InferJobData, InferResult>(queue, id);
      if (!job) continue; // removed by retention just now
      if (state === 'failed') return { ...base, error: job.failedReason };
      const total = (job.finishedOn ?? Date.now()) - job.timestamp;
      return { ...base, result: toOipResponse(job.returnvalue, total, this.catalog.get(model).manifest.labels) };
    }
    throw new RequestError(404, `unknown job '${id}' (finished jobs are kept for the last ${this.settings.jobRetention} per model)`);
  }
}
