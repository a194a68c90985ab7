import { Manifest, earlyExitCount } from '@outlet/model-package';
import { ConfigError } from '@outlet/config';
import { PLAN_PRESETS, PlanError, elementCount, parsePlan } from '@outlet/contracts';

/** A request the gateway refuses; `status` is the HTTP status to answer with. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string) => new RequestError(400, message);

export interface ValidInferRequest {
  id?: string;
  data: Float32Array;
  shape: number[];
  plan?: string;
  threshold?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** OUTLET_DEFAULT_PLAN must be a plan every served model accepts. */
export function checkDefaultPlan(plan: string, catalog: { packages: Map<string, { manifest: Manifest }> }): void {
  for (const { manifest } of catalog.packages.values()) {
    try {
      validatePlan(plan, manifest);
    } catch (err) {
      throw new ConfigError(`OUTLET_DEFAULT_PLAN='${plan}' does not fit model '${manifest.name}': ${(err as Error).message}`);
    }
  }
}

/** Check the request's plan against the model: a preset, `auto`, or one placement per early exit. */
export function validatePlan(plan: unknown, manifest: Manifest): string {
  if (typeof plan !== 'string') throw bad(`parameters.plan must be a string (one of ${PLAN_PRESETS.join(', ')} or a comma list)`);
  if (plan.trim() === 'auto') return 'auto';
  try {
    parsePlan(plan, earlyExitCount(manifest));
  } catch (err) {
    if (err instanceof PlanError) throw bad(`parameters.plan: ${err.message}`);
    throw err;
  }
  return plan.trim();
}

/**
 * Validate an Open Inference Protocol v2 request body against a model's manifest. Every refusal
 * names the problem; nothing that fails here reaches a worker.
 */
export function validateInferRequest(body: unknown, manifest: Manifest): ValidInferRequest {
  if (!isObject(body)) throw bad('the request body must be a JSON object with an "inputs" array');
  const expected = manifest.input;

  let id: string | undefined;
  if (body.id !== undefined) {
    if (typeof body.id !== 'string' || body.id.length > 256) throw bad('"id" must be a string of at most 256 characters');
    id = body.id;
  }

  if (!Array.isArray(body.inputs)) throw bad('"inputs" must be an array of tensors');
  const unknown = body.inputs.find((t) => !isObject(t) || t.name !== expected.name);
  if (unknown !== undefined) {
    const name = isObject(unknown) ? unknown.name : undefined;
    throw bad(
      typeof name === 'string'
        ? `unknown input '${name}': model '${manifest.name}' takes one input named '${expected.name}'`
        : `every input must be an object with a "name"; model '${manifest.name}' takes '${expected.name}'`,
    );
  }
  if (body.inputs.length === 0) throw bad(`missing input '${expected.name}'`);
  if (body.inputs.length > 1) throw bad(`input '${expected.name}' is given ${body.inputs.length} times`);
  const tensor = body.inputs[0] as Record<string, unknown>;

  if (tensor.datatype !== expected.datatype) {
    throw bad(`input '${expected.name}' has datatype ${JSON.stringify(tensor.datatype)}; expected '${expected.datatype}'`);
  }

  const shape = tensor.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw bad(`input '${expected.name}' shape must be an array of non-negative integers`);
  }
  const expectedText = `[${expected.shape.join(',')}]`;
  if (shape.length !== expected.shape.length) {
    throw bad(`input '${expected.name}' shape [${shape.join(',')}] does not match the model's ${expectedText}`);
  }
  shape.forEach((d: number, i: number) => {
    if (expected.shape[i] !== -1 && d !== expected.shape[i]) {
      throw bad(`input '${expected.name}' shape [${shape.join(',')}] does not match the model's ${expectedText} at dimension ${i}`);
    }
  });
  if (shape[0] !== 1) throw bad(`batch size ${shape[0]} is not supported yet: send one sample per request (shape[0] = 1)`);

  if (!Array.isArray(tensor.data)) throw bad(`input '${expected.name}' needs "data": a flat, row-major array of numbers`);
  // Nested arrays are flattened; a flat array (the common case) is taken as is: flat() costs ~60 ns a value.
  const flat = Array.isArray((tensor.data as unknown[])[0]) ? (tensor.data as unknown[]).flat(Infinity) : (tensor.data as unknown[]);
  const count = elementCount(shape);
  if (flat.length !== count) {
    throw bad(`input '${expected.name}' has ${flat.length} values but shape [${shape.join(',')}] needs ${count}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw bad(`input '${expected.name}' value at index ${i} is ${JSON.stringify(v)}, not a finite number`);
    }
    data[i] = v;
  }

  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw bad('"outputs" must be an array of {"name"}');
    for (const o of body.outputs) {
      if (!isObject(o) || o.name !== manifest.output.name) {
        throw bad(`unknown output ${JSON.stringify(isObject(o) ? o.name : o)}: model '${manifest.name}' outputs '${manifest.output.name}'`);
      }
    }
  }

  const result: ValidInferRequest = { id, data, shape };
  Object.assign(result, validateParameters(body.parameters, manifest));
  return result;
}

export function validateParameters(parameters: unknown, manifest: Manifest): { plan?: string; threshold?: number } {
  if (parameters === undefined) return {};
  if (!isObject(parameters)) throw bad('"parameters" must be an object');
  const out: { plan?: string; threshold?: number } = {};
  if (parameters.plan !== undefined) out.plan = validatePlan(parameters.plan, manifest);
  if (parameters.threshold !== undefined) {
    const t = parameters.threshold;
    if (typeof t !== 'number' || !(t >= 0 && t <= 1)) throw bad('parameters.threshold must be a number from 0 to 1');
    out.threshold = t;
  }
  return out;
}
