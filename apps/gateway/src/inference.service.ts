import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AnswerMessage, InferJobData, TaskAnswer, echoText, inputKey, nowMs } from '@outlet/contracts';
import { GatewaySettings } from '@outlet/config';
import { ModelCatalog } from './model-catalog.service';
import { RequestError, ValidInferRequest } from './inference-request';
import { OipResponse, toOipResponse } from './oip-response';
import { GatewayTransport, atFinalExit } from './gateway-transport.service';
import { GATEWAY_SETTINGS } from './tokens';
import { StatisticsService } from './statistics.service';

/** What a 429 asks a client to wait (seconds): about how long a trunk takes to clear a few tasks. */
const RETRY_AFTER_S = 1;

/** A synchronous task: what its waiter needs besides the request. */
interface SynchronousTask {
  model: string;
  taskId: string;
  data: InferJobData;
  receivedAt: number;
  /** The task's deadline comes before OUTLET_INFER_TIMEOUT_MS. */
  byDeadline: boolean;
  /** How long to wait for its outcome (for a progressive task: all of them). */
  waitMs: number;
}

/** A progressive request asked for where one response is all there can be. */
const progressiveNeedsStream = () =>
  new RequestError(400, 'parameters.progressive: true may answer twice, so it needs a stream: HTTP with the header Accept: text/event-stream, or gRPC ModelStreamInfer');

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
      progressive: request.progressive,
    };
  }

  /** Queue a task, or refuse it (429) when its model's queue is at OUTLET_MAX_QUEUED. */
  private async enqueue(taskId: string, data: InferJobData, request: ValidInferRequest): Promise<void> {
    const { maxQueued, jobRetention, defaultPriority } = this.settings;
    const result = await this.transport.enqueue(taskId, data, request.data, { retention: jobRetention, priority: request.priority ?? defaultPriority, maxQueued });
    if (!result.queued) {
      throw new RequestError(429, `model '${data.model}' has ${result.waiting} tasks waiting, at its bound OUTLET_MAX_QUEUED=${maxQueued}: retry later`, RETRY_AFTER_S);
    }
    const { redisWaitReplicas: replicas, redisWaitMs } = this.settings;
    if (replicas > 0) {
      // Replication is asynchronous: without this, a fail-over right after the 202 may lose the task.
      const confirmed = await this.transport.confirmedReplicas(replicas, redisWaitMs).catch(() => 0);
      if (confirmed < replicas) {
        throw new RequestError(503, `task ${taskId} is queued on the Redis primary, but ${confirmed} of ${replicas} replica(s) confirmed it within ${redisWaitMs} ms (OUTLET_REDIS_WAIT_REPLICAS): a fail-over now could lose it, and it may still run; retry later`, RETRY_AFTER_S);
      }
    }
  }

  /** Enqueue one task without waiting for it (`/v1/jobs`). */
  async submit(model: string, request: ValidInferRequest, receivedAt: number): Promise<string> {
    if (request.progressive) throw progressiveNeedsStream();
    const taskId = randomUUID();
    await this.enqueue(taskId, this.jobData(model, request, taskId, receivedAt), request);
    return taskId;
  }

  /**
   * Run a task and answer with the first decision, whichever worker makes it (synchronous `/infer`).
   * The caller waits until the task's deadline, if it has one, and OUTLET_INFER_TIMEOUT_MS at most.
   */
  async infer(model: string, request: ValidInferRequest, receivedAt: number): Promise<OipResponse> {
    if (request.progressive) throw progressiveNeedsStream();
    const task = this.synchronousTask(model, request, receivedAt);
    const outcome = this.transport.expect(task.taskId, task.waitMs);
    await this.enqueueAwaited(task, request);
    return this.firstResponse(task, request, await outcome);
  }

  /**
   * Run a progressive task: its responses as they come, the first decision's and, when that was an
   * early exit, the final exit's after it (run on behind other work), each with `parameters.final`.
   * Until the first, this fails as `infer` does; after it, a final answer that does not come within
   * the same wait (the deadline, OUTLET_INFER_TIMEOUT_MS at most) is a 504.
   */
  async *inferProgressive(model: string, request: ValidInferRequest, receivedAt: number): AsyncGenerator<OipResponse> {
    const task = this.synchronousTask(model, request, receivedAt);
    const outcomes = this.transport.expectProgressive(task.taskId, task.waitMs);
    await this.enqueueAwaited(task, request);
    let answered = false;
    for await (const message of outcomes) {
      // After the first, only the continuation comes: an answer.
      const response = answered ? this.response(task, message.answer!, nowMs()) : this.firstResponse(task, request, message);
      answered = true;
      response.parameters.final = atFinalExit(message.answer!);
      yield response;
    }
    if (!outcomes.complete) {
      // Nothing came: the 504 of `infer`, which firstResponse throws.
      if (!answered) this.firstResponse(task, request, undefined);
      throw new RequestError(504, `task ${task.taskId} answered at an early exit, but its final exit's answer did not come within ${task.waitMs.toFixed(0)} ms (${task.byDeadline ? 'parameters.timeout' : 'OUTLET_INFER_TIMEOUT_MS'})`);
    }
  }

  /** A task whose outcome this gateway waits for: until its deadline, OUTLET_INFER_TIMEOUT_MS at most. */
  private synchronousTask(model: string, request: ValidInferRequest, receivedAt: number): SynchronousTask {
    const taskId = randomUUID();
    const data = this.jobData(model, request, taskId, receivedAt, this.transport.gatewayId);
    const untilDeadline = data.deadline === undefined ? Infinity : Math.max(0, data.deadline - nowMs());
    const byDeadline = untilDeadline < this.settings.inferTimeoutMs;
    return { model, taskId, data, receivedAt, byDeadline, waitMs: byDeadline ? untilDeadline : this.settings.inferTimeoutMs };
  }

  /** Enqueue a task already expected; if that fails, stop expecting it. */
  private async enqueueAwaited(task: SynchronousTask, request: ValidInferRequest): Promise<void> {
    try {
      await this.enqueue(task.taskId, task.data, request);
    } catch (err) {
      this.transport.forget(task.taskId);
      this.stats.failure(task.model, task.receivedAt, nowMs());
      throw err;
    }
  }

  /** The response to a task's first outcome (counted in the statistics), or the error it is; none came: 504. */
  private firstResponse(task: SynchronousTask, request: ValidInferRequest, message: AnswerMessage | undefined): OipResponse {
    const { model, taskId, receivedAt } = task;
    const answeredAt = nowMs();
    if (!message || (message.error !== undefined && message.deadlineExpired)) {
      // A worker's failure message for an expired task can beat this gateway's own timer.
      this.stats.failure(model, receivedAt, answeredAt);
      if (task.byDeadline || message) {
        throw new RequestError(504, `task ${taskId} did not finish within its timeout of ${request.timeoutUs} µs (parameters.timeout); a task not started by then is never run`);
      }
      throw new RequestError(504, `task ${taskId} did not finish within ${this.settings.inferTimeoutMs} ms (is a trunk worker serving '${model}'?); poll GET /v1/jobs/${taskId}`);
    }
    if (message.error !== undefined) {
      // The worker says whose fault it was: the request's (e.g. an input beyond what the model can
      // compute in FP32) or the server's.
      throw new RequestError(message.inputFault ? 422 : 500, `task ${taskId} failed: ${message.error}`);
    }
    const response = this.response(task, message.answer, answeredAt);
    this.stats.success(model, message.answer, { receivedAt, enqueuedAt: task.data.enqueuedAt, answeredAt });
    return response;
  }

  private response(task: SynchronousTask, answer: TaskAnswer, answeredAt: number): OipResponse {
    const clock = { receivedAt: task.receivedAt, enqueuedAt: task.data.enqueuedAt, answeredAt };
    return toOipResponse(answer, answeredAt - task.receivedAt, this.catalog.get(task.model).manifest.labels, clock);
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
