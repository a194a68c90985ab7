import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { onnx } from 'onnx-proto';
import { Manifest, MANIFEST_FILE, compactJson, validateManifest } from '@outlet/model-package';
import { SplitError, VerificationError } from './errors';
import { MultiExitSplit, splitMultiExit } from './split';
import { DEFAULT_RANDOM_INPUTS, VerificationReport, verifySplit } from './verify';

export interface ImportOptions {
  /** The package's name (manifest `name`). */
  name: string;
  /** Exit output names in order; the last is the final exit (or the one graph output not listed). */
  exits: string[];
  /** The package folder itself (created; its parent too). */
  outDir: string;
  labels?: string[];
  description?: string;
  /** Real inputs to verify with, each the input's size without the batch dimension. */
  samples?: Float32Array[];
  /** Seeded random N(0, 1) inputs to verify with (16 by default). */
  random?: number;
  /** Largest relative error allowed (1e-5 by default). */
  tolerance?: number;
  /** Replace an existing folder at outDir. */
  overwrite?: boolean;
}

export interface ImportReport {
  /** Absolute path of the package folder written. */
  dir: string;
  manifest: Manifest;
  split: MultiExitSplit;
  verification: VerificationReport;
  elapsedMs: number;
}

/** Default thresholds: early exits start strict (calibrate them with `outlet calibrate`); the final exit takes everything. */
export const DEFAULT_EARLY_THRESHOLD = 0.9;

function readModel(path: string): { bytes: Uint8Array; model: onnx.ModelProto } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return { bytes, model: onnx.ModelProto.decode(bytes) };
  } catch (err) {
    throw new Error(`${path} is not a readable ONNX model (${(err as Error).message})`);
  }
}

/** The manifest of a verified split (validated: a bad name or labels count throws ManifestError naming the field). */
function buildManifest(options: ImportOptions, split: MultiExitSplit, v: VerificationReport, source: string): Manifest {
  const final = split.exits[split.exits.length - 1];
  const classes = v.exitOutputShapes.map((s) => s[s.length - 1]);
  split.exits.forEach((e, i) => {
    if (classes[i] !== classes[classes.length - 1]) {
      throw new SplitError(`exit '${e.output}' gives ${classes[i]} classes but the final exit '${final.output}' ${classes[classes.length - 1]}: every exit must classify into the same classes`);
    }
  });
  const raw = {
    name: options.name,
    version: '1',
    description: options.description ?? `split from ${basename(source)} by @outlet/model-import`,
    input: { name: split.input.name, datatype: 'FP32', shape: split.input.shape },
    output: { name: final.output, datatype: 'FP32', shape: v.exitOutputShapes[v.exitOutputShapes.length - 1] },
    ...(options.labels ? { labels: options.labels } : {}),
    segments: split.segments.map((_, k) => ({ file: `segment-${k + 1}.onnx`, output_shape: v.segmentOutputShapes[k] })),
    exits: split.exits.map((e, k) => ({ file: `exit-${k + 1}.onnx`, after_segment: e.afterSegment, threshold: e.final ? 0 : DEFAULT_EARLY_THRESHOLD })),
  };
  return validateManifest(raw);
}

/**
 * Split the multi-exit ONNX model at `modelPath`, verify the pieces against it, and write the
 * model package to `options.outDir`. Throws SplitError (the graph cannot be split as asked),
 * VerificationError (the pieces disagree with the model; its report says where), ManifestError
 * or Error; on any failure nothing is left on disk: the package is written to a temporary
 * folder next to outDir and renamed into place.
 */
export async function importMultiExitModel(modelPath: string, options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const dir = resolve(options.outDir);
  if (existsSync(dir)) {
    if (!options.overwrite) throw new Error(`${dir} already exists; pass overwrite: true to replace it`);
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a folder`);
  }
  const { bytes, model } = readModel(modelPath);
  const split = splitMultiExit(model, { exits: options.exits });
  const verification = await verifySplit(bytes, split, {
    samples: options.samples,
    random: options.random ?? DEFAULT_RANDOM_INPUTS,
    tolerance: options.tolerance,
  });
  if (!verification.holds) {
    const w = verification.worst;
    throw new VerificationError(
      `the split does not reproduce the model: max relative error ${verification.maxError.toExponential(2)} > tolerance ${verification.tolerance} ` +
        `(exit '${w.exit}', ${w.source} input ${w.index}; per exit: ${verification.perExit.map((p) => `${p.output} ${p.maxError.toExponential(2)}`).join(', ')})`,
      verification,
    );
  }
  const manifest = buildManifest(options, split, verification, modelPath);

  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.import-${process.pid}-${Date.now()}`);
  const old = `${tmp}-old`;
  try {
    mkdirSync(tmp);
    const encode = (m: onnx.ModelProto) => onnx.ModelProto.encode(m).finish();
    split.segments.forEach((m, k) => writeFileSync(join(tmp, manifest.segments[k].file), encode(m)));
    split.heads.forEach((m, k) => writeFileSync(join(tmp, manifest.exits[k].file), encode(m)));
    writeFileSync(join(tmp, MANIFEST_FILE), `${compactJson(manifest)}\n`);
    if (existsSync(dir)) {
      // overwrite: move the old package aside first, and back if the new one cannot take its place.
      renameSync(dir, old);
      try {
        renameSync(tmp, dir);
      } catch (err) {
        renameSync(old, dir);
        throw err;
      }
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, manifest, split, verification, elapsedMs: performance.now() - started };
}
