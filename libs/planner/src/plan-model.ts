import { elementCount } from '@outlet/contracts';
import { Manifest, PlanTable } from '@outlet/model-package';
import { CalibrationFile, statisticsFromCalibration } from './calibration';
import { ExitStatistics, formulaStatistics } from './exit-statistics';
import { buildPlanTable, utilizationCentres } from './plan-table';
import { PlanResult, SearchOptions, searchPlan } from './search';
import { PlannerError, StageTimesMs } from './stage-times';
import { AnswerTiming, TimelineModel } from './timeline';
import { TransferModel, handoffMs, handoffTrunkMs } from './transfer-model';

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
  options: { abortMs?: number; answerAt?: AnswerTiming } = {},
): TimelineModel {
  const n = manifest.exits.length - 1;
  if (bytes.length < n) throw new PlannerError(`feature sizes: ${bytes.length} given for ${n} early exits`);
  return {
    afterSegment: manifest.exits.map((e) => e.after_segment),
    times,
    handoffMs: bytes.slice(0, n).map((b) => handoffMs(transfer, b)),
    handoffTrunkMs: bytes.slice(0, n).map((b) => handoffTrunkMs(transfer, b)),
    abortMs: options.abortMs ?? transfer.notify_ms,
    answerAt: options.answerAt ?? 'decision',
  };
}

export interface PlanModelInputs extends SearchOptions {
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
  createdAt?: string;
}

export interface PlanModelOutput {
  /** The plan at each utilization centre, ascending. */
  results: { cpuUtil: number; result: PlanResult }[];
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
 * Everything `outlet plan` needs: the best plan at each utilization centre (with the presets'
 * expected latencies and the stage times used) and the plan table for plans.json.
 */
export function planModel(inputs: PlanModelInputs): PlanModelOutput {
  const stats = planningStatistics(inputs);
  const bytes = inputs.featureBytes ?? featureBytes(inputs.manifest);
  const centres = [...(inputs.utilizations ?? utilizationCentres())].sort((a, b) => a - b);
  const results = centres.map((cpuUtil) => {
    const model = timelineModelFor(inputs.manifest, inputs.stageTimes(cpuUtil), inputs.transfer, bytes, inputs);
    return { cpuUtil, result: searchPlan(model, stats, inputs) };
  });
  const method = `${stats.mode} exit statistics; answer at ${inputs.answerAt ?? 'decision'}; ${results[0].result.search} search`;
  const table = buildPlanTable(inputs.manifest.name, results, { createdAt: inputs.createdAt, method });
  return { results, table, statistics: stats, featureBytes: bytes };
}
