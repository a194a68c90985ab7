import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelPackage } from '@outlet/model-package';
import { ExecutionProvider, sessionOptions } from './execution-provider';

/** A feature or input: FP32 values with their shape (batch first). */
export interface Feature {
  data: Float32Array;
  dims: number[];
}

async function openSession(path: string, ep: ExecutionProvider, threads: number) {
  return ort.InferenceSession.create(path, sessionOptions(ep, threads));
}

async function runSingle(session: ort.InferenceSession, input: Feature): Promise<Feature> {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
  const results = await session.run(feeds);
  const out = results[session.outputNames[0]];
  return { data: out.data as Float32Array, dims: [...out.dims] };
}

/**
 * The ONNX sessions of one model package: the trunk segments and the exit heads a process needs,
 * each with one input and one output.
 */
export class MultiExitModel {
  private constructor(
    readonly pkg: ModelPackage,
    readonly ep: ExecutionProvider,
    private readonly segments: (ort.InferenceSession | undefined)[],
    private readonly exits: (ort.InferenceSession | undefined)[],
  ) {}

  /** Open the chosen pieces (by default all) on one execution provider. */
  static async load(
    pkg: ModelPackage,
    ep: ExecutionProvider,
    threads: number,
    pieces: { segments?: boolean; exits?: 'all' | 'early' | 'none' } = {},
  ): Promise<MultiExitModel> {
    const { segments = true, exits = 'all' } = pieces;
    const m = pkg.manifest;
    const open = (file: string) => openSession(join(pkg.dir, file), ep, threads);
    const segmentSessions = await Promise.all(m.segments.map((s) => (segments ? open(s.file) : undefined)));
    const exitSessions = await Promise.all(
      m.exits.map((e, i) => {
        const wanted = exits === 'all' || (exits === 'early' && i < m.exits.length - 1);
        return wanted ? open(e.file) : undefined;
      }),
    );
    return new MultiExitModel(pkg, ep, segmentSessions, exitSessions);
  }

  get manifest() {
    return this.pkg.manifest;
  }

  async runSegment(index: number, input: Feature): Promise<Feature> {
    const session = this.segments[index];
    if (!session) throw new Error(`segment ${index} of ${this.manifest.name} is not loaded here`);
    return runSingle(session, input);
  }

  /** Run exit head `index` on a feature; returns its softmax probabilities. */
  async runExit(index: number, feature: Feature): Promise<Float32Array> {
    const session = this.exits[index];
    if (!session) throw new Error(`exit head ${index} of ${this.manifest.name} is not loaded here`);
    return (await runSingle(session, feature)).data;
  }

  /** Index of the exit that follows segment `segment`, if any. */
  exitAfterSegment(segment: number): number | undefined {
    const i = this.manifest.exits.findIndex((e) => e.after_segment === segment);
    return i < 0 ? undefined : i;
  }

  async release(): Promise<void> {
    await Promise.all([...this.segments, ...this.exits].map((s) => s?.release()));
  }
}
