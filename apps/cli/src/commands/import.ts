import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { HANDOFF_TRANSPORTS } from '@outlet/planner';
import { ModelPackage, loadModelPackage, modelsHome } from '@outlet/model-package';
import { ImportReport, SplitError, VerificationError, VerificationReport, importMultiExitModel } from '@outlet/model-import';
import { loadInputSamples } from '../offline/labelled-samples';
import { commaList, integerIn, numberIn, positiveNumber } from '../offline/option-parsers';
import { calibratePackage } from './calibrate';
import { profileDefaults, profileModel } from './profile';
import { measureTransfer } from './transfer';
import { planPackage } from './plan';

interface ImportCommandOptions {
  name: string;
  exits: string[];
  out?: string;
  labels?: string;
  description?: string;
  data?: string;
  random: number;
  tolerance: number;
  force?: boolean;
  calibrate?: string;
  holdout?: string;
  maxLoss: number;
  profile?: boolean;
  plan?: boolean;
  modelsDir: string;
}

/** Class names: a JSON array of strings, or a text file with one name per line. */
export function readLabelNames(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  if (text.trimStart().startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.some((l) => typeof l !== 'string')) throw new Error(`${path}: expected a JSON array of class names (strings)`);
    return parsed as string[];
  }
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (names.length === 0) throw new Error(`${path} holds no class names`);
  return names;
}

const exp = (v: number) => v.toExponential(2);

function printVerification(v: VerificationReport): void {
  console.log(
    `verified ${v.samples.random} random + ${v.samples.data} data inputs (${v.comparisons} comparisons of every exit's chain with the original output): ` +
      `largest relative error ${exp(v.maxError)} (exit '${v.worst.exit}', ${v.worst.source} input ${v.worst.index}); tolerance ${exp(v.tolerance)}`,
  );
  console.log(`  per exit: ${v.perExit.map((e) => `${e.output} ${exp(e.maxError)}`).join(', ')}`);
}

function printSplit(report: ImportReport): void {
  const { split, manifest } = report;
  split.exits.forEach((e, i) => {
    const how = e.softmaxAppended ? ' (ends without Softmax: Softmax appended, compared with softmax of the original)' : '';
    console.log(`  ${e.final ? 'final exit' : `exit ${i + 1}`} '${e.output}' reads '${e.cut}' → ${manifest.exits[i].file} after ${manifest.segments[e.afterSegment].file}${how}`);
  });
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('split one ONNX file of a multi-exit network (every exit an output) into a model package: one file per trunk segment and per exit head, checked numerically against the original; optionally calibrate, profile and plan it')
    .argument('<model.onnx>', 'the exported multi-exit network: one input, one output per exit')
    .requiredOption('--name <name>', 'package name (letters, digits, - and _)')
    .requiredOption('--exits <outputs>', 'the exit outputs, comma separated, early to final (the final may be left out when it is the one output not listed)', commaList)
    .option('--out <dir>', 'package folder (default: <models-dir>/<name>)')
    .option('--labels <file>', 'class names: a JSON array of strings or one name per line')
    .option('--description <text>', "the manifest's description")
    .option('--data <file>', 'inputs to check the split on besides the random ones: mnist:<split>, a labelled-samples JSON file, <inputs.npy>[,<labels.npy>]')
    .option('--random <n>', 'random inputs to check the split on', integerIn(0, 100_000), 16)
    .option('--tolerance <t>', 'largest relative error allowed between a chain of pieces and the original output', positiveNumber, 1e-5)
    .option('--force', 'replace an existing package folder')
    .option('--calibrate <data>', 'then choose thresholds on this labelled data (as outlet calibrate --data)')
    .option('--holdout <data>', 'with --calibrate: report the chosen thresholds on other labelled data too')
    .option('--max-loss <points>', 'with --calibrate: allowed accuracy loss against the final exit alone, in percent points', numberIn(0, 100), 0.5)
    .option('--profile', 'then time every piece at every CPU load level (as outlet profile, its defaults)')
    .option('--plan', 'then measure the hand-off (outlet transfer --quick) and write the plan table (outlet plan --write); needs --calibrate')
    .option('--models-dir <dir>', 'models folder (default: OUTLET_MODELS_DIR, else ./models, else the shipped one)', modelsHome())
    .addHelpText(
      'after',
      `
How the file is split: the trunk is every node the final output needs; each early exit's head is
what its output needs beyond the trunk, and must read the trunk through ONE tensor (its branch
point); the trunk is cut at the branch points into segments, and a cut must leave no other tensor
crossing it (a skip connection over a branch point is refused, naming the tensor, with the
nearest valid cut). Every piece is checked: for each input, segment 1..i then head i must give
the original's output i within --tolerance (relative). Nothing is written unless all hold.

Example (the residual network of training/README.md):
  outlet import training/residual-exits.onnx --name residual-exits --exits exit1,exit2,final \\
    --data mnist:test --calibrate mnist:val --holdout mnist:test --profile --plan`,
    )
    .action(async (file: string, options: ImportCommandOptions) => {
      if (options.plan && !options.calibrate) throw new Error('--plan needs --calibrate: the planner reads the exit statistics');
      if (options.holdout && !options.calibrate) throw new Error('--holdout goes with --calibrate');
      if (!existsSync(file)) throw new Error(`no such file: ${file}`);
      const outDir = resolve(options.out ?? join(options.modelsDir, options.name));
      if (existsSync(outDir) && !options.force) throw new Error(`${outDir} already exists: choose another --name or --out, or replace it with --force`);
      const samples = options.data ? loadInputSamples(options.data) : [];
      console.log(`import ${file} as '${options.name}' into ${relative(process.cwd(), outDir) || '.'}`);
      let report: ImportReport;
      try {
        report = await importMultiExitModel(file, {
          name: options.name,
          exits: options.exits,
          outDir,
          labels: options.labels ? readLabelNames(options.labels) : undefined,
          description: options.description ?? `imported by outlet import from ${file}`,
          samples,
          random: options.random,
          tolerance: options.tolerance,
          overwrite: options.force,
        });
      } catch (err) {
        if (err instanceof VerificationError) printVerification(err.report);
        if (err instanceof SplitError || err instanceof VerificationError) {
          console.error(`outlet: ${err.message}; nothing written`);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
      printSplit(report);
      printVerification(report.verification);
      const m = report.manifest;
      console.log(`wrote ${report.dir}: ${m.segments.length} segments, ${m.exits.length} exits, input ${m.input.name} [${m.input.shape}], in ${(report.elapsedMs / 1000).toFixed(2)} s`);
      await followOn(loadModelPackage(report.dir), options);
    });
}

/** --calibrate, --profile, --plan: the offline stage on the new package, each step as its own command does it. */
async function followOn(pkg: ModelPackage, options: ImportCommandOptions): Promise<void> {
  if (options.calibrate) {
    console.log('');
    const calibrated = await calibratePackage(pkg, { data: options.calibrate, holdout: options.holdout, maxLoss: options.maxLoss, minEarlyShare: 0, threads: 1, batch: 32 });
    if (!calibrated) {
      process.exitCode = 1;
      if (options.plan) console.error('outlet: no plan written: calibration did not meet its target');
      return;
    }
  }
  pkg = loadModelPackage(pkg.dir); // with the calibrated thresholds
  if (options.profile) {
    console.log('');
    await profileModel(pkg, { ...profileDefaults(), write: true });
  }
  if (options.plan) {
    console.log('');
    await measureTransfer(pkg, { quick: true, gapMs: 3, transports: [...HANDOFF_TRANSPORTS], write: true });
    console.log('');
    await planPackage(pkg, { json: false, write: true, trunkEp: 'cpu', answerAt: 'decision', transport: 'shm' });
  }
}
