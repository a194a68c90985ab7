import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue, QueueEvents } from 'bullmq';
import { randomUUID } from 'node:crypto';
import {
  InferJobData,
  InferResult,
  JobName,
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
  }

  async onApplicationShutdown() {
    await Promise.all([...this.events.values()].map((e) => e.close()));
  }

  queue(model: string): Queue<InferJobData, InferResult> {
    return this.moduleRef.get(getQueueToken(inferQueueName(model)), { strict: false });
  }

  /** Enqueue one task; the job id is the task id. */
  async enqueue(model: string, request: ValidInferRequest): Promise<Job<InferJobData, InferResult>> {
    const taskId = randomUUID();
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
    };
    return this.queue(model).add(JobName.Infer, data, {
      jobId: taskId,
      removeOnComplete: { count: this.settings.jobRetention },
      removeOnFail: { count: this.settings.jobRetention },
    });
  }

  /** Run a task and wait for its answer (synchronous `/infer`). */
  async infer(model: string, request: ValidInferRequest, receivedAt: number) {
    const job = await this.enqueue(model, request);
    let result: InferResult;
    try {
      result = await job.waitUntilFinished(this.events.get(model)!, this.settings.inferTimeoutMs);
    } catch (err) {
      const message = (err as Error).message;
      if (/timed out/i.test(message)) {
        throw new RequestError(504, `task ${job.id} did not finish within ${this.settings.inferTimeoutMs} ms (is a trunk worker serving '${model}'?); poll GET /v1/jobs/${job.id}`);
      }
      throw new RequestError(500, `task ${job.id} failed: ${message}`);
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
