import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  CALIBRATION_FILE,
  CalibrationFile,
  DEFAULT_THRESHOLD_GRID,
  buildCalibrationFile,
  chooseThresholds,
  evaluateThresholds,
} from '@outlet/planner';
import { collectExitRecords, inputSize } from '../offline/exit-records';
import { loadLabelledData } from '../offline/labelled-samples';
import { writeManifestThresholds } from '../offline/manifest-thresholds';
import { integerIn, numberIn } from '../offline/option-parsers';
import { ModelPackage, compactJson, modelsHome } from '@outlet/model-package';
import { resolveModelPackage } from '../offline/model-arg';

export interface CalibrateOptions {
  data: string;
  maxLoss: number;
  minEarlyShare: number;
  holdout?: string;
  threads: number;
  batch: number;
  modelsDir: string;
  dryRun?: boolean;
  keepThresholds?: boolean;
}

const pct = (x: number | null) => (x === null ? '   -  ' : `${x.toFixed(2).padStart(6)}`);

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('exit statistics on labelled data: run every exit, tabulate exit probability and leaver accuracy per threshold, choose thresholds, write them to manifest.json and calibration.json')
    .argument('<model>', 'model package: a name in the models folder or a path to a package folder')
    .requiredOption('--data <file|mnist:split>', 'labelled samples: a JSON file {"samples":[{"label":7,"data":[…input values…]},…]} or mnist:test | mnist:val | mnist:train | mnist:all')
    .option('--max-loss <points>', 'allowed accuracy loss against the final exit alone, in percent points', numberIn(0, 100), 0.5)
    .option('--min-early-share <share>', 'refuse to write unless at least this share of samples leaves early (0..1)', numberIn(0, 1), 0)
    .option('--holdout <file|mnist:split>', 'also report the chosen thresholds on other labelled data (not used for the choice)')
    .option('--threads <n>', 'onnxruntime CPU threads', integerIn(1, 256), 1)
    .option('--batch <n>', 'samples per run (memory grows with it: a 112x112 model at 256 needs over 20 GB)', integerIn(1, 65536), 32)
    .option('--models-dir <dir>', 'models folder (default: OUTLET_MODELS_DIR, else ./models, else the shipped one)', modelsHome())
    .option('--dry-run', 'report only; write neither manifest.json nor calibration.json')
    .option('--keep-thresholds', "keep the manifest's thresholds (check them against the target) and write only calibration.json")
    .addHelpText(
      'after',
      `
Every sample runs through all segments and all exit heads on the CPU. For each early exit and
each threshold on the grid (${DEFAULT_THRESHOLD_GRID[0]}..${DEFAULT_THRESHOLD_GRID[DEFAULT_THRESHOLD_GRID.length - 1]}, fine steps near 1) the table gives:
  conf%   share of all samples whose max probability reaches the threshold (exit alone), acc% theirs;
  exit p  share of the samples REACHING the exit (earlier exits at the chosen thresholds) that leave,
  leave%  the accuracy of those that leave.
Thresholds are chosen on the grid (exhaustively for few exits): the lowest expected number of
segments run, subject to accuracy >= final-exit-alone accuracy - --max-loss (ties: higher
accuracy, then higher thresholds). Unless --dry-run, and only if the target holds, the chosen
thresholds go into manifest.json (exits[i].threshold) and the tables and per-sample records
(compact) into calibration.json, which the planner reads.

Examples:
  outlet calibrate branchy-mnist --data mnist:test
  outlet calibrate branchy-mnist --data mnist:val --holdout mnist:test --dry-run
  outlet dataset mnist --split test --out /tmp/test.json && outlet calibrate branchy-mnist --data /tmp/test.json`,
    )
    .action(async (modelArg: string, options: CalibrateOptions) => {
      if (!(await calibratePackage(resolveModelPackage(modelArg, options.modelsDir), options))) process.exitCode = 1;
    });
}

/**
 * Calibrate a package (see the command's help): print the tables and, unless a dry run, write the
 * chosen thresholds and calibration.json. False (after saying why) when the target is not met.
 */
export async function calibratePackage(pkg: ModelPackage, options: Omit<CalibrateOptions, 'modelsDir'>): Promise<boolean> {
  const m = pkg.manifest;
  const afterSegment = m.exits.map((e) => e.after_segment);
  const set = loadLabelledData(options.data, inputSize(pkg));
  console.log(`calibrate ${m.name} v${m.version}: ${set.samples.length} samples from ${set.source}`);
  const started = Date.now();
  const records = await collectExitRecords(pkg, set, { threads: options.threads, batch: options.batch });
  console.log(`ran ${m.segments.length} segments and ${m.exits.length} exits on every sample in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const searched = chooseThresholds(records, afterSegment, { maxLossPoints: options.maxLoss });
  // --keep-thresholds: the manifest's thresholds stand in for the search's choice.
  const kept = m.exits.map((e) => e.threshold);
  const keptEvaluation = evaluateThresholds(records, kept, afterSegment);
  const choice = options.keepThresholds
    ? { ...searched, thresholds: keptEvaluation.accuracy >= searched.requiredAccuracy ? kept : undefined, evaluation: keptEvaluation }
    : searched;
  const thresholds = choice.thresholds ?? kept;
  const file = buildCalibrationFile({ model: m.name, modelVersion: m.version, source: options.data, records, afterSegment, choice, thresholds });
  printTables(file);
  console.log('');
  console.log(`final exit alone: ${choice.finalAloneAccuracy.toFixed(2)}%   target: >= ${choice.requiredAccuracy.toFixed(2)}% (max loss ${choice.maxLossPoints} points)`);
  console.log(`threshold search: ${choice.search}, ${choice.vectorsEvaluated} vectors`);
  const before = evaluateThresholds(records, m.exits.map((e) => e.threshold), afterSegment);
  printEvaluation('manifest thresholds before', before);
  if (!choice.thresholds) {
    console.error(`outlet: no thresholds on the grid keep accuracy within ${options.maxLoss} points of the final exit alone; nothing written`);
    return false;
  }
  const after = evaluateThresholds(records, thresholds, afterSegment);
  printEvaluation('chosen thresholds', after);
  if (options.holdout) {
    const hold = loadLabelledData(options.holdout, inputSize(pkg));
    const holdRecords = await collectExitRecords(pkg, hold, { threads: options.threads, batch: options.batch });
    const finalAlone = (100 * holdRecords.correct[m.exits.length - 1].reduce((a, b) => a + b, 0)) / hold.samples.length;
    console.log(`holdout ${options.holdout} (${hold.samples.length} samples): final exit alone ${finalAlone.toFixed(2)}%`);
    printEvaluation('chosen thresholds on holdout', evaluateThresholds(holdRecords, thresholds, afterSegment));
  }
  const ok = file.result.meets_target && after.earlyShare >= options.minEarlyShare;
  if (!ok) {
    console.error(`outlet: target not met (early share ${after.earlyShare.toFixed(4)} < ${options.minEarlyShare} or accuracy below target); nothing written`);
    return false;
  }
  if (options.dryRun) {
    console.log('dry run: nothing written');
    return true;
  }
  const calibrationPath = join(pkg.dir, CALIBRATION_FILE);
  writeFileSync(calibrationPath, `${compactJson(file)}\n`);
  if (!options.keepThresholds) console.log(`wrote thresholds [${thresholds.join(', ')}] to ${writeManifestThresholds(pkg, thresholds)}`);
  console.log(`wrote ${calibrationPath}`);
  return true;
}

function printTables(file: CalibrationFile): void {
  for (const t of file.tables) {
    console.log('');
    console.log(`exit ${t.exit} (after segment ${t.after_segment}): alone ${t.alone_accuracy.toFixed(2)}%; ${t.reach} samples reach it at the chosen thresholds (chosen ${file.thresholds[t.exit]})`);
    console.log('  threshold   conf%   acc%  | exit p  leave%');
    for (const r of t.rows) {
      const mark = r.threshold === file.thresholds[t.exit] ? ' <' : '';
      console.log(
        `  ${String(r.threshold).padEnd(9)} ${(100 * r.confident_share).toFixed(2).padStart(6)} ${pct(r.confident_accuracy)} | ${r.exit_probability.toFixed(4)} ${pct(r.leaver_accuracy)}${mark}`,
      );
    }
  }
}

function printEvaluation(name: string, ev: ReturnType<typeof evaluateThresholds>): void {
  console.log(
    `${name} [${ev.thresholds.join(', ')}]: accuracy ${ev.accuracy.toFixed(2)}%, early exits ${(100 * ev.earlyShare).toFixed(2)}%, ` +
      `answered per exit [${ev.exitCounts.join(', ')}], accuracy per exit [${ev.exitAccuracy.map((a) => (a === null ? '-' : a.toFixed(2))).join(', ')}], ` +
      `mean segments ${ev.expectedCost.toFixed(4)}`,
  );
}
