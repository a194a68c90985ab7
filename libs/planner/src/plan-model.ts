import { elementCount } from '@outlet/contracts';
import { Manifest, PlanTable } from '@outlet/model-package';
import { CalibrationFile, statisticsFromCalibration } from './calibration';
import { ExitStatistics, formulaStatistics } from './exit-statistics';
import { buildPlanTable, utilizationCentres } from './plan-table';
import { PlanResult, SearchOptions, searchPlan } from './search';
import { PlannerError, StageTimesMs } from './stage-times';
import { AnswerTiming, TimelineModel } from './timeline';
import { HandoffTransport, TransferModel, handoffMs, handoffTrunkMs, handoffTransportUsed } from './transfer-model';

/** Bytes of each early exit's input feature: its segment's output shape at batch 1, FP32. */
export function featureBytes(manifest: Manifest): number[] {
  return manifest.exits.slice(0, -1).map((e) => {
    const shape = manifest.segments[e.after_segment].output_shape.map((d) => (d === -1 ? 1 : d));
    return elementCount(shape) * 4;
  });
}

/** The timeline model of a manifest at one set of stage times. */
export function timelineModelFor(
  manifest: Manifest,
  times: StageTimesMs,
  transfer: TransferModel,
  bytes: readonly number[] = featureBytes(manifest),
  options: { abortMs?: number; answerAt?: AnswerTiming; transport?: HandoffTransport } = {},
): TimelineModel {
  const n = manifest.exits.length - 1;
  if (bytes.length < n) throw new PlannerError(`feature sizes: ${bytes.length} given for ${n} early exits`);
  return {
    afterSegment: manifest.exits.map((e) => e.after_segment),
    times,
    handoffMs: bytes.slice(0, n).map((b) => handoffMs(transfer, b, options.transport)),
    handoffTrunkMs: bytes.slice(0, n).map((b) => handoffTrunkMs(transfer, b, options.transport)),
    abortMs: options.abortMs ?? transfer.notify_ms,
    answerAt: options.answerAt ?? 'decision',
  };
}

export interface PlanModelInputs extends Omit<SearchOptions, 'objective'> {
  manifest: Manifest;
  /** Predicted stage times at CPU utilization u (0..1), from the profile / predictor. */
  stageTimes: (u: number) => StageTimesMs;
  transfer: TransferModel;
  /** calibration.json: empirical statistics when it holds per-sample records. */
  calibration?: CalibrationFile;
  /** Without calibration: conditional exit probability p_i per early exit (formula mode). */
  exitProbabilities?: number[];
  /** Thresholds to plan for (default: the manifest's; the calibration's matrix is recomputed for others). */
  thresholds?: number[];
  /** Utilization bucket centres (default 0, 0.1, …, 1). */
  utilizations?: number[];
  /** Feature bytes per early exit (default: from the manifest's output shapes). */
  featureBytes?: number[];
  /** Notify / abort cost added to branch decisions (default: the transfer model's notify_ms). */
  abortMs?: number;
  answerAt?: AnswerTiming;
  /** The feature hand-off transport the workers use (default shm; the transfer model's main one if it lacks it). */
  transport?: HandoffTransport;
  createdAt?: string;
}

export interface PlanModelOutput {
  /**
   * The plan at each utilization centre, ascending: `result` for the lowest expected latency (no
   * backlog), `backlog` for the highest throughput with a backlog of tasks waiting for the trunk.
   */
  results: { cpuUtil: number; result: PlanResult; backlog: PlanResult }[];
  table: PlanTable;
  statistics: ExitStatistics;
  featureBytes: number[];
}

/** Exit statistics for planning: calibration (empirical if possible) or the given probabilities. */
export function planningStatistics(inputs: Pick<PlanModelInputs, 'manifest' | 'calibration' | 'exitProbabilities' | 'thresholds'>): ExitStatistics {
  const n = inputs.manifest.exits.length - 1;
  if (inputs.calibration) {
    const thresholds = inputs.thresholds ?? inputs.manifest.exits.map((e) => e.threshold);
    const stats = statisticsFromCalibration(inputs.calibration, thresholds);
    if (stats.earlyExits !== n) throw new PlannerError(`calibration covers ${stats.earlyExits} early exits; the model has ${n}`);
    return stats;
  }
  if (inputs.exitProbabilities) {
    if (inputs.exitProbabilities.length !== n) throw new PlannerError(`${inputs.exitProbabilities.length} exit probabilities for ${n} early exits`);
    return formulaStatistics(inputs.exitProbabilities);
  }
  throw new PlannerError(`no exit statistics for ${inputs.manifest.name}: run 'outlet calibrate ${inputs.manifest.name} --data …' or give exit probabilities`);
}

/**
 * Everything `outlet plan` needs: the best plan at each utilization centre for latency and for
 * throughput under a backlog (with the presets' expected latencies and throughputs and the stage
 * times used) and the plan table for plans.json.
 */
export function planModel(inputs: PlanModelInputs): PlanModelOutput {
  const stats = planningStatistics(inputs);
  const bytes = inputs.featureBytes ?? featureBytes(inputs.manifest);
  const centres = [...(inputs.utilizations ?? utilizationCentres())].sort((a, b) => a - b);
  const { exhaustiveLimit } = inputs;
  const results = centres.map((cpuUtil) => {
    const model = timelineModelFor(inputs.manifest, inputs.stageTimes(cpuUtil), inputs.transfer, bytes, inputs);
    return {
      cpuUtil,
      result: searchPlan(model, stats, { exhaustiveLimit, objective: 'latency' }),
      backlog: searchPlan(model, stats, { exhaustiveLimit, objective: 'throughput' }),
    };
  });
  const asked = inputs.transport ?? 'shm';
  const used = handoffTransportUsed(inputs.transfer, asked);
  const handoff = used === asked ? asked : `${asked} (not measured: ${used ?? 'the main'} hand-off model used)`;
  const fused = results[0].result.inputs.fusedHeadMs ? 'fused inline heads' : 'separate inline heads';
  const method =
    `${stats.mode} exit statistics; answer at ${inputs.answerAt ?? 'decision'}; ${results[0].result.search} search; ` +
    `hand-off ${handoff}; ${fused}; backlog plans maximize tasks/s = 1 / max(E[trunk occupancy], E[branch CPU])`;
  const table = buildPlanTable(inputs.manifest.name, results, { createdAt: inputs.createdAt, method });
  return { results, table, statistics: stats, featureBytes: bytes };
}
