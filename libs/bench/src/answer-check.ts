import { Feature, MultiExitModel, argMax, maxProbability } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';

/** How far an answer's probabilities may be from the reference (CPU onnxruntime on both sides; fused and separate calls agree to 1e-5). */
const PROBABILITY_TOLERANCE = 1e-3;
/** A confidence this close under a threshold still counts as confident (float noise between fused and separate calls). */
const THRESHOLD_TOLERANCE = 1e-4;

/** The fields of an answer (an OIP infer response, or a job's `result`) that the check reads. */
export interface AnswerBody {
  id?: unknown;
  outputs?: { data?: unknown }[];
  parameters?: Record<string, unknown>;
}

/**
 * What every exit of the model gives for each input, computed once with onnxruntime in this
 * process. An answer is right when it is what one of the exits allowed to answer gives for its
 * input: an exit whose confidence reaches its threshold, or the final exit. Which of them answers
 * depends on timing (a branch head races the trunk), so any of them is right; anything else —
 * other probabilities, a label that is not their argmax, an exit that was not confident, another
 * request's answer, a malformed body — is wrong.
 */
export class ReferenceAnswers {
  private constructor(
    /** Per input, per exit: the head's probabilities. */
    private readonly exits: Float32Array[][],
    private readonly thresholds: number[],
    private readonly labels: string[] | undefined,
  ) {}

  static async compute(pkg: ModelPackage, inputs: Float32Array[]): Promise<ReferenceAnswers> {
    const model = await MultiExitModel.load(pkg, 'cpu', 1);
    const m = pkg.manifest;
    try {
      const exits: Float32Array[][] = [];
      for (const pixels of inputs) {
        let feature: Feature = { data: pixels, dims: [1, ...m.input.shape.slice(1)] };
        const perExit: Float32Array[] = [];
        for (let s = 0; s < m.segments.length; s++) {
          feature = await model.runSegment(s, feature);
          const exit = model.exitAfterSegment(s);
          if (exit !== undefined) perExit[exit] = await model.runExit(exit, feature);
        }
        exits.push(perExit);
      }
      return new ReferenceAnswers(exits, m.exits.map((e) => e.threshold), m.labels);
    } finally {
      await model.release();
    }
  }

  /** The exits allowed to answer input `i`. */
  eligibleExits(i: number): number[] {
    const final = this.thresholds.length - 1;
    return this.thresholds.map((_, e) => e).filter((e) => e === final || maxProbability(this.exits[i][e]) >= this.thresholds[e] - THRESHOLD_TOLERANCE);
  }

  /** Why `body` is not a right answer to input `i` sent with request id `requestId`, or undefined when it is right. */
  problem(i: number, requestId: string, body: AnswerBody): string | undefined {
    if (body.id !== requestId) return `answer carries request id ${JSON.stringify(body.id)}, not ${requestId}`;
    const data = body.outputs?.[0]?.data;
    const p = body.parameters ?? {};
    const exit = p.exit_index;
    if (!Array.isArray(data) || data.length !== this.exits[i][0].length || !data.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      return `malformed probabilities ${JSON.stringify(data)?.slice(0, 80)}`;
    }
    if (typeof exit !== 'number' || !this.eligibleExits(i).includes(exit)) return `exit ${JSON.stringify(exit)} may not answer this input (allowed: ${this.eligibleExits(i).join(', ')})`;
    const reference = this.exits[i][exit];
    const off = data.findIndex((v, k) => Math.abs((v as number) - reference[k]) > PROBABILITY_TOLERANCE);
    if (off >= 0) return `probability ${off} is ${data[off]}, exit ${exit} gives ${reference[off]}`;
    const expected = this.labels?.[argMax(data as number[])];
    if (expected !== undefined && p.label !== expected) return `label ${JSON.stringify(p.label)} is not that of the argmax, ${expected}`;
    return undefined;
  }
}
