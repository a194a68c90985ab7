import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InferJobData, echoText, inputKey, nowMs } from '@outlet/contracts';
import { GatewaySettings } from '@outlet/config';
import { ModelCatalog } from './model-catalog.service';
import { RequestError, ValidInferRequest } from './inference-request';
import { toOipResponse } from './oip-response';
import { GatewayTransport } from './gateway-transport.service';
import { GATEWAY_SETTINGS } from './tokens';
import { StatisticsService } from './statistics.service';

/** What a 429 asks a client to wait (seconds): about how long a trunk takes to clear a few tasks. */
const RETRY_AFTER_S = 1;

/** Runs tasks: enqueue, then answer at the first decision (synchronous) or later (asynchronous). */
@Injectable()
export class InferenceService {
  /** Fleet-wide statistics (counted after the reply is on its way). */
  @Inject(StatisticsService) private readonly stats!: StatisticsService;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly transport: GatewayTransport,
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
  ) {}

  private jobData(model: string, request: ValidInferRequest, taskId: string, receivedAt: number, replyTo?: string): InferJobData {
    return {
      model,
      requestId: request.id ?? taskId,
      input: { name: this.catalog.get(model).manifest.input.name, shape: request.shape, datatype: 'FP32', key: inputKey(taskId) },
      plan: request.plan ?? this.settings.defaultPlan,
      planSource: request.plan ? 'request' : 'default',
      threshold: request.threshold,
      enqueuedAt: nowMs(),
      deadline: request.timeoutUs === undefined ? undefined : receivedAt + request.timeoutUs / 1000,
      replyTo,
    };
  }

  /** Queue a task, or refuse it (429) when its model's queue is at OUTLET_MAX_QUEUED. */
  private async enqueue(taskId: string, data: InferJobData, request: ValidInferRequest): Promise<void> {
    const { maxQueued, jobRetention, defaultPriority } = this.settings;
    const result = await this.transport.enqueue(taskId, data, request.data, { retention: jobRetention, priority: request.priority ?? defaultPriority, maxQueued });
    if (!result.queued) {
      throw new RequestError(429, `model '${data.model}' has ${result.waiting} tasks waiting, at its bound OUTLET_MAX_QUEUED=${maxQueued}: retry later`, RETRY_AFTER_S);
    }
  }

  /** Enqueue one task without waiting for it (`/v1/jobs`). */
  async submit(model: string, request: ValidInferRequest, receivedAt: number): Promise<string> {
    const taskId = randomUUID();
    await this.enqueue(taskId, this.jobData(model, request, taskId, receivedAt), request);
    return taskId;
  }

  /**
   * Run a task and answer with the first decision, whichever worker makes it (synchronous `/infer`).
   * The caller waits until the task's deadline, if it has one, and OUTLET_INFER_TIMEOUT_MS at most.
   */
  async infer(model: string, request: ValidInferRequest, receivedAt: number) {
    const taskId = randomUUID();
    const data = this.jobData(model, request, taskId, receivedAt, this.transport.gatewayId);
    const untilDeadline = data.deadline === undefined ? Infinity : Math.max(0, data.deadline - nowMs());
    const byDeadline = untilDeadline < this.settings.inferTimeoutMs;
    const outcome = this.transport.expect(taskId, byDeadline ? untilDeadline : this.settings.inferTimeoutMs);
    try {
      await this.enqueue(taskId, data, request);
    } catch (err) {
      this.transport.forget(taskId);
      this.stats.failure(model, receivedAt, nowMs());
      throw err;
    }
    const message = await outcome;
    const answeredAt = nowMs();
    if (!message || (message.error !== undefined && message.deadlineExpired)) {
      // A worker's failure message for an expired task can beat this gateway's own timer.
      this.stats.failure(model, receivedAt, answeredAt);
      if (byDeadline || message) {
        throw new RequestError(504, `task ${taskId} did not finish within its timeout of ${request.timeoutUs} µs (parameters.timeout); a task not started by then is never run`);
      }
      throw new RequestError(504, `task ${taskId} did not finish within ${this.settings.inferTimeoutMs} ms (is a trunk worker serving '${model}'?); poll GET /v1/jobs/${taskId}`);
    }
    if (message.error !== undefined) {
      // The worker says whose fault it was: the request's (e.g. an input beyond what the model can
      // compute in FP32) or the server's.
      throw new RequestError(message.inputFault ? 422 : 500, `task ${taskId} failed: ${message.error}`);
    }
    const clock = { receivedAt, enqueuedAt: data.enqueuedAt, answeredAt };
    this.stats.success(model, message.answer, clock);
    return toOipResponse(message.answer, answeredAt - receivedAt, this.catalog.get(model).manifest.labels, clock);
  }

  /** The state of an asynchronous task, with its answer once done. */
  async jobStatus(id: string) {
    const found = await this.transport.findJob(this.catalog.names(), id);
    if (!found) throw new RequestError(404, `unknown job '${echoText(id)}' (finished jobs are kept for the last ${this.settings.jobRetention} per model)`);
    const { model, job } = found;
    // Every task carries a BullMQ priority, so BullMQ says 'prioritized' where clients expect 'waiting'.
    const state = found.state === 'prioritized' ? 'waiting' : found.state;
    const base = { id, model, state };
    if (!job) return base;
    if (state === 'failed') return { ...base, error: job.failedReason };
    const total = (job.finishedOn ?? Date.now()) - job.timestamp;
    return { ...base, result: toOipResponse(job.returnvalue, total, this.catalog.get(model).manifest.labels) };
  }
}
