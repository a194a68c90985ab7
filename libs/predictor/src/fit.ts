import * as ort from 'onnxruntime-node';
import { ExecutionProvider } from '@outlet/inference';
import {
  describeMachine, LoadGenerator, MeasureTarget, openSession, PROFILED_EPS, probeProviders, randomFeeds, round, sweepLevels,
} from '@outlet/profiler';
import { OnnxWriter } from '@outlet/onnx-cost';
import { DEFAULT_FEATURE_SET, FEATURE_SETS, featuresOfModel } from './features';
import { evaluatePredictor, fitPredictor, FittedPredictor, ZooEntry } from './predictor';
import { generateZoo, splitIds } from './zoo';

/** A tiny conv + fc model to find which providers open and run. */
function probeModel(): Uint8Array {
  const w = new OnnxWriter({ seed: 1 });
  const x = w.relu(w.conv(w.input('input', [-1, 3, 8, 8]), { outChannels: 4, kernel: 3, pad: 1 }));
  w.output(w.softmax(w.gemm(w.flatten(x), 10)));
  return w.encode();
}

export interface FitOptions {
  /** Zoo size (84 by default: 12 per family). */
  count?: number;
  seed?: number;
  /** Share of the zoo held out for evaluation (0.3 by default). */
  holdoutShare?: number;
  levels?: number[];
  runs?: number;
  warmup?: number;
  threads?: number;
  eps?: ExecutionProvider[];
  /** Feature set to fit (features.ts FEATURE_SETS: 'extended' by default, or 'basic'). */
  featureSet?: string;
  /** Models timed round-robin together at each level (all of them by default; 1 = each model in a tight loop). */
  groupSize?: number;
  /** Cap on time per model per level (ms). */
  maxMsPerModel?: number;
  onProgress?: (done: number, total: number, label: string) => void;
  onNote?: (message: string) => void;
}

/**
 * Defaults: 168 zoo models, 30% held out, five levels, 25 timed runs after 3 warm-ups, each model
 * timed in a tight loop (groupSize 1): its weights stay in cache as a small package's pieces do
 * (the profiler times a package's pieces round-robin, which for a small package is the same).
 * Round-robin over the whole zoo (groupSize 168) measured cold caches: about 25 µs more per call.
 */
export const FIT_DEFAULTS = { count: 168, seed: 42, holdoutShare: 0.3, levels: [0, 0.25, 0.5, 0.75, 0.9], runs: 25, warmup: 3, threads: 1, maxMsPerModel: 250, groupSize: 1 };
export const FIT_QUICK = { ...FIT_DEFAULTS, count: 56, levels: [0, 0.5, 0.9], runs: 11, maxMsPerModel: 120 };

/**
 * Generate the zoo, measure every model on every provider that works at every utilization level
 * (under the load generator), split by a fixed seed into fit and held-out sets, fit, evaluate.
 */
export async function fitFromZoo(options: FitOptions = {}): Promise<FittedPredictor> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as FitOptions;
  const o = { ...FIT_DEFAULTS, ...given };
  const featureNames = featureSetNames(o.featureSet ?? DEFAULT_FEATURE_SET);
  const zoo = generateZoo({ count: o.count, seed: o.seed });
  const split = splitIds(zoo.map((m) => m.id), o.holdoutShare, o.seed);
  const { available, unavailable } = await probeProviders(probeModel(), o.threads, o.eps ?? PROFILED_EPS);
  for (const [ep, why] of Object.entries(unavailable)) o.onNote?.(`execution provider '${ep}' skipped: ${why}`);
  if (available.length === 0) throw new Error(`no execution provider works here: ${Object.entries(unavailable).map(([e, w]) => `${e}: ${w}`).join('; ')}`);

  const entries: ZooEntry[] = zoo.map((m) => {
    const { named, cost } = featuresOfModel(m.bytes);
    return {
      id: m.id,
      family: m.family,
      description: m.description,
      set: split.holdout.has(m.id) ? 'holdout' : 'fit',
      features: Object.fromEntries(Object.entries(named).map(([k, v]) => [k, round(v, 6)])),
      mflop: round(cost.flops / 1e6, 5),
      median_ms: {},
      spread_ms: {},
    };
  });
  const targets: (MeasureTarget & { ep: string; entry: ZooEntry })[] = [];
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const ep of available) {
      for (let i = 0; i < zoo.length; i++) {
        let session: ort.InferenceSession;
        try {
          session = await openSession(zoo[i].bytes, ep, o.threads);
        } catch (err) {
          o.onNote?.(`${zoo[i].id} does not open on ${ep}: ${(err as Error).message.split('\n')[0]}`);
          continue;
        }
        sessions.push(session);
        targets.push({ key: `${ep}:${zoo[i].id}`, session, feeds: randomFeeds(zoo[i].bytes, i + 1), ep, entry: entries[i] });
      }
    }
    const load = new LoadGenerator();
    const sweep = await sweepLevels(targets, {
      levels: o.levels,
      warmup: o.warmup,
      runs: o.runs,
      maxMsPerTarget: o.maxMsPerModel,
      groupSize: o.groupSize,
      load,
      onProgress: o.onProgress,
    });
    for (const t of targets) {
      const summaries = sweep.results.get(t.key)!;
      t.entry.median_ms[t.ep] = summaries.map((s) => round(s.median, 5));
      t.entry.spread_ms![t.ep] = summaries.map((s) => [round(s.p10, 4), round(s.p90, 4)]);
    }
    const achievedByLevel = sweep.levels.map((l) => round(l.achieved_util, 3));
    const achieved = Object.fromEntries(available.map((ep) => [ep, achievedByLevel]));
    const loadByLevel = sweep.levels.map((l) => round(l.load_util, 3));
    const loadUtil = Object.fromEntries(available.map((ep) => [ep, loadByLevel]));
    const predictor: FittedPredictor = {
      format: 1,
      created_at: new Date().toISOString(),
      machine: describeMachine(),
      threads: o.threads,
      feature_set: o.featureSet ?? DEFAULT_FEATURE_SET,
      feature_names: [...featureNames],
      levels: o.levels,
      models: fitPredictor(entries, o.levels, featureNames, achieved, loadUtil),
      zoo: { seed: o.seed, holdout_share: o.holdoutShare, runs: o.runs, warmup: o.warmup, entries },
      unavailable_eps: unavailable,
    };
    predictor.evaluation = evaluatePredictor(predictor);
    return predictor;
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

export function featureSetNames(set: string): readonly string[] {
  const names = FEATURE_SETS[set];
  if (!names) throw new Error(`unknown feature set '${set}' (known: ${Object.keys(FEATURE_SETS).join(', ')})`);
  return names;
}

/** Refit from the zoo measurements stored in a predictor, optionally on another feature set. */
export function refit(predictor: FittedPredictor, featureSet?: string): FittedPredictor {
  const featureNames = featureSet ? featureSetNames(featureSet) : predictor.feature_names;
  if (!predictor.zoo) throw new Error('the predictor holds no zoo measurements to refit from');
  const achieved = Object.fromEntries(Object.entries(predictor.models).map(([ep, ls]) => [ep, ls.map((l) => l.achieved_util)]));
  const loadUtil = Object.fromEntries(Object.entries(predictor.models).map(([ep, ls]) => [ep, ls.map((l) => l.load_util ?? NaN)]));
  const refitted: FittedPredictor = {
    ...predictor,
    feature_set: featureSet ?? predictor.feature_set,
    feature_names: [...featureNames],
    models: fitPredictor(predictor.zoo.entries, predictor.levels, featureNames, achieved, loadUtil),
  };
  refitted.evaluation = evaluatePredictor(refitted);
  return refitted;
}
