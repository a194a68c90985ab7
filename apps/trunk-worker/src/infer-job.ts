import { UnrecoverableError } from 'bullmq';
import { InferJobData, PlanError, elementCount, parsePlan, Placement } from '@outlet/contracts';
import { Manifest, earlyExitCount } from '@outlet/model-package';

/** A job that cannot be run as it is: it fails alone, and the worker goes on serving. */
export class InvalidJobError extends Error {}

/**
 * A task whose input is valid FP32 but beyond what the model can compute (an exit's output is not
 * finite, e.g. for values near ±3.4e38): it fails, and the fault is the request's.
 */
export class UncomputableInputError extends UnrecoverableError {}

/** A task taken after its deadline (the request's `timeout`): it fails without running, and its caller hears 504. */
export class DeadlineExpiredError extends UnrecoverableError {}

export interface DecodedTask {
  input: Float32Array;
  shape: number[];
  /** The job's plan, or `auto` to be chosen by the node. */
  plan: Placement[] | 'auto';
  thresholds: number[];
}

/**
 * Check a task's payload (already checked against its contract, InferJobData) and its input
 * values (read from `data.input.key`; undefined when there was none, or not whole FP32 values)
 * against the model's manifest. `thresholds`: the model's live ones (a request's `threshold`
 * overrides every exit's).
 */
export function decodeInferJob(taskId: string, data: InferJobData, manifest: Manifest, input: Float32Array | undefined, thresholds: readonly number[]): DecodedTask {
  if (!input) throw new InvalidJobError(`task ${taskId}: no input values at ${JSON.stringify(data.input.key)} (missing, expired or not FP32)`);
  const shape = data.input.shape;
  const expected = manifest.input.shape;
  if (
    shape.length !== expected.length ||
    shape.some((d, i) => d !== (expected[i] === -1 ? 1 : expected[i])) ||
    elementCount(shape) !== input.length
  ) {
    throw new InvalidJobError(`task ${taskId}: input shape ${JSON.stringify(shape)} with ${input.length} values does not fit [${expected}]`);
  }
  let plan: DecodedTask['plan'];
  try {
    plan = data.plan === 'auto' ? 'auto' : parsePlan(data.plan, earlyExitCount(manifest));
  } catch (err) {
    if (err instanceof PlanError) throw new InvalidJobError(`task ${taskId}: ${err.message}`);
    throw err;
  }
  return { input, shape, plan, thresholds: thresholds.map((t) => data.threshold ?? t) };
}
