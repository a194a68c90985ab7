import assert from 'node:assert/strict';
import { TaskAnswer, TrunkTelemetry, formatPlan } from '@outlet/contracts';
import { get } from './http';
import { TrunkRecords } from './trunk-record';

/** The answer-describing parameters every view of a task must agree on. */
const SHARED_PARAMETERS = ['exit_index', 'exit_count', 'exit_confidence', 'exit_worker', 'trunk_ep', 'plan', 'plan_source', 'node_id', 'task_id', 'queue_ms', 'label'];

/**
 * The three views of one answered task agree: the body the HTTP client got (or the async job's
 * result), the task's BullMQ job returnvalue (TaskAnswer, written by the trunk worker), and
 * GET /v1/jobs/:id. Returns the job's answer and the trunk's telemetry.
 */
export async function assertViewsAgree(
  baseUrl: string,
  records: TrunkRecords,
  client: { model_name: string; id: string; outputs: any[]; parameters: Record<string, any> },
  what: string,
): Promise<{ answer: TaskAnswer; telemetry: TrunkTelemetry }> {
  const taskId = client.parameters.task_id;
  assert.equal(typeof taskId, 'string', `${what}: the answer names its task`);
  const { answer, telemetry } = await records.of(taskId);
  // The job's record (TaskAnswer) against the client's OIP body.
  assert.equal(answer.taskId, taskId, what);
  assert.equal(answer.exitIndex, client.parameters.exit_index, `${what}: job exitIndex vs client exit_index`);
  assert.equal(answer.exitWorker, client.parameters.exit_worker, `${what}: job exitWorker vs client exit_worker`);
  assert.equal(answer.exitConfidence, client.parameters.exit_confidence, `${what}: job exitConfidence vs client`);
  assert.equal(answer.nodeId, client.parameters.node_id, what);
  assert.equal(formatPlan(answer.plan), client.parameters.plan, what);
  assert.equal(answer.requestId, client.id, what);
  assert.deepEqual(answer.outputs, client.outputs, `${what}: job outputs vs client outputs`);
  // The trunk stopped at or after the answer's decision, and recorded that decision as the answer's.
  assert.equal(telemetry.decidedAt, answer.decidedAt, `${what}: telemetry decidedAt is the answer's`);
  // GET /v1/jobs/:id renders the same answer.
  const polled = await get(`${baseUrl}/v1/jobs/${taskId}`);
  assert.equal(polled.status, 200, `${what}: ${JSON.stringify(polled.body)}`);
  assert.equal(polled.body.state, 'completed', what);
  const result = polled.body.result;
  assert.equal(result.model_name, client.model_name, what);
  assert.equal(result.id, client.id, what);
  assert.deepEqual(result.outputs, client.outputs, `${what}: GET /v1/jobs outputs vs client outputs`);
  for (const key of SHARED_PARAMETERS) assert.deepEqual(result.parameters[key], client.parameters[key], `${what}: GET /v1/jobs parameter ${key}`);
  return { answer, telemetry };
}
