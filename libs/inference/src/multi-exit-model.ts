import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelPackage, exitAfterSegment } from '@outlet/model-package';
import { ExecutionProvider, sessionOptions } from './execution-provider';
import { fuseSegmentGraph } from './fused-graph';

/** A feature or input: FP32 values with their shape (batch first). */
export interface Feature {
  data: Float32Array;
  dims: number[];
}

async function openSession(path: string, ep: ExecutionProvider, threads: number) {
  return ort.InferenceSession.create(path, sessionOptions(ep, threads));
}

/** A session of a segment fused with its exit head, and the names of its two outputs. */
interface FusedSession {
  session: ort.InferenceSession;
  featureOutput: string;
  probabilitiesOutput: string;
}

/** Open the fused graph of segment `segmentFile` and head `exitFile` (built in memory, see fused-graph.ts). */
async function openFused(pkg: ModelPackage, segmentFile: string, exitFile: string, ep: ExecutionProvider, threads: number): Promise<FusedSession> {
  let fused;
  try {
    fused = fuseSegmentGraph(readFileSync(join(pkg.dir, segmentFile)), readFileSync(join(pkg.dir, exitFile)));
  } catch (err) {
    throw new Error(`${pkg.manifest.name}: ${segmentFile} + ${exitFile}: ${(err as Error).message}`);
  }
  const session = await ort.InferenceSession.create(fused.bytes, sessionOptions(ep, threads));
  for (const name of [fused.featureOutput, fused.probabilitiesOutput]) {
    if (!session.outputNames.includes(name)) {
      await session.release();
      throw new Error(`the fused graph of ${segmentFile} + ${exitFile} has no output '${name}' (outputs: ${session.outputNames.join(', ')})`);
    }
  }
  return { session, featureOutput: fused.featureOutput, probabilitiesOutput: fused.probabilitiesOutput };
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
    /** Per exit index: its segment fused with it, when loaded with `fused: true`. */
    private readonly fused: (FusedSession | undefined)[],
  ) {}

  /**
   * Open the chosen pieces (by default all) on one execution provider. `fused: true` also opens,
   * for every exit (the final one included), one session of the exit's segment fused with it, for
   * runSegmentWithExit (an inline head in the same onnxruntime call as its segment).
   */
  static async load(
    pkg: ModelPackage,
    ep: ExecutionProvider,
    threads: number,
    pieces: { segments?: boolean; exits?: 'all' | 'early' | 'none'; fused?: boolean } = {},
  ): Promise<MultiExitModel> {
    const { segments = true, exits = 'all', fused = false } = pieces;
    const m = pkg.manifest;
    const open = (file: string) => openSession(join(pkg.dir, file), ep, threads);
    const segmentSessions = await Promise.all(m.segments.map((s) => (segments ? open(s.file) : undefined)));
    const exitSessions = await Promise.all(
      m.exits.map((e, i) => {
        const wanted = exits === 'all' || (exits === 'early' && i < m.exits.length - 1);
        return wanted ? open(e.file) : undefined;
      }),
    );
    const fusedSessions = await Promise.all(
      m.exits.map((e) => (fused ? openFused(pkg, m.segments[e.after_segment].file, e.file, ep, threads) : undefined)),
    );
    return new MultiExitModel(pkg, ep, segmentSessions, exitSessions, fusedSessions);
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

  /**
   * Run segment `segment` and the exit head that follows it as one onnxruntime call (the model
   * must be loaded with `fused: true`): the next feature and the head's softmax probabilities,
   * the same values runSegment and runExit give.
   */
  async runSegmentWithExit(segment: number, input: Feature): Promise<{ feature: Feature; probabilities: Float32Array }> {
    const exit = this.exitAfterSegment(segment);
    if (exit === undefined) throw new Error(`segment ${segment} of ${this.manifest.name} has no exit head after it`);
    const fused = this.fused[exit];
    if (!fused) throw new Error(`fused segment ${segment} + exit head ${exit} of ${this.manifest.name} is not loaded here (load with fused: true)`);
    const { session, featureOutput, probabilitiesOutput } = fused;
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
    const results = await session.run(feeds);
    const feature = results[featureOutput];
    return {
      feature: { data: feature.data as Float32Array, dims: [...feature.dims] },
      probabilities: results[probabilitiesOutput].data as Float32Array,
    };
  }

  /** Index of the exit that follows segment `segment`, if any. */
  exitAfterSegment(segment: number): number | undefined {
    return exitAfterSegment(this.manifest, segment);
  }

  async release(): Promise<void> {
    await Promise.all([...this.segments, ...this.exits, ...this.fused.map((f) => f?.session)].map((s) => s?.release()));
  }
}
