import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionProvider } from '@outlet/inference';
import { loadModelPackage, predictorsHome } from '@outlet/model-package';
import { KernelPredictorFile, predictKernels } from './forest';
import { defaultMeasureCpus } from './kernel-fit';
import { halvesApart, measureModels } from './kernel-measure';
import { runtimeKernels } from './kernels';

/** Where `outlet predictor fit-kernels` writes: $OUTLET_KERNEL_PREDICTOR, else kernel-predictor.json where the predictors live (predictorsHome). */
export function defaultKernelPredictorPath(): string {
  return process.env.OUTLET_KERNEL_PREDICTOR || join(predictorsHome(), 'kernel-predictor.json');
}

export function loadKernelPredictor(path = defaultKernelPredictorPath()): KernelPredictorFile | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as KernelPredictorFile;
  if (parsed.kind !== 'kernel-predictor' || parsed.format !== 2) throw new Error(`${path} is not a kernel predictor of this version (format 2; refit it: outlet predictor fit-kernels)`);
  return parsed;
}

export interface PredictOptions {
  ep: ExecutionProvider;
  threads: number;
  cpuUtil: number;
  /** Also measure (whole call and per kernel, the fit's protocol). */
  measure?: boolean;
  runs?: number;
  warmup?: number;
}

export interface KernelRow {
  name: string;
  op: string;
  label: string;
  class: string;
  input_shape?: number[];
  output_shape?: number[];
  mflop: number;
  predicted_ms: number;
  measured_ms?: number;
}

export interface PieceReport {
  piece: string;
  file: string;
  kernels: KernelRow[];
  overhead_ms: number;
  /** Predicted ms of one batch-1 call of the file. */
  total_ms: number;
  measured_ms?: number;
  /** |difference| between two halves of the measurement, % (the noise floor of measured_ms). */
  measured_noise_pct?: number;
}

export interface PredictReport {
  target: string;
  kind: 'file' | 'package';
  ep: string;
  threads: number;
  cpu_util: number;
  pieces: PieceReport[];
  /** A file: one batch-1 call of it. A package: the trunk's segments in a row (no exit heads). */
  total_ms: number;
  measured_ms?: number;
}

const round = (v: number, d = 4) => Number(v.toFixed(d));

/** Predict (and optionally measure) pieces: files by label. */
async function predictPieces(predictor: KernelPredictorFile, pieces: { piece: string; file: string }[], o: PredictOptions): Promise<PieceReport[]> {
  const reports: PieceReport[] = [];
  for (const p of pieces) {
    const kernels = await runtimeKernels(p.file, o.ep, o.threads);
    const pred = predictKernels(predictor, kernels, o.ep, o.threads, o.cpuUtil);
    reports.push({
      piece: p.piece,
      file: p.file,
      kernels: pred.kernels.map((k) => ({
        name: k.kernel.name, op: k.kernel.opType, label: k.kernel.label, class: k.kernel.kclass,
        input_shape: k.kernel.inputShapes[0], output_shape: k.kernel.outputShapes[0], mflop: round(k.kernel.config.mflop), predicted_ms: round(k.ms),
      })),
      overhead_ms: round(pred.overhead_ms),
      total_ms: round(pred.total_ms),
    });
  }
  if (o.measure) {
    const measured = await measureModels(pieces.map((p, i) => ({ id: String(i), bytes: readFileSync(p.file) })), {
      ep: o.ep, threads: o.threads, levels: [o.cpuUtil], warmup: o.warmup ?? 3, runs: o.runs ?? 20,
      cpus: defaultMeasureCpus(o.threads),
    });
    reports.forEach((r, i) => {
      const run = measured.get(String(i))![0];
      r.measured_ms = round(run.run_ms);
      r.measured_noise_pct = round(100 * halvesApart(run), 2);
      for (const k of r.kernels) if (run.kernel_ms[k.name] !== undefined) k.measured_ms = round(run.kernel_ms[k.name]);
    });
  }
  return reports;
}

/** `outlet predict`: a file or a package folder (per segment and per exit head). */
export async function predictTarget(predictor: KernelPredictorFile, target: string, o: PredictOptions): Promise<PredictReport> {
  const isPackage = existsSync(target) && statSync(target).isDirectory();
  let pieces: { piece: string; file: string }[];
  if (isPackage) {
    const pkg = loadModelPackage(target);
    pieces = [
      ...pkg.manifest.segments.map((s, i) => ({ piece: `segment ${i}`, file: join(pkg.dir, s.file) })),
      ...pkg.manifest.exits.map((e, i) => ({ piece: `exit ${i}`, file: join(pkg.dir, e.file) })),
    ];
  } else {
    if (!existsSync(target)) throw new Error(`no such file or package: ${target}`);
    pieces = [{ piece: 'model', file: target }];
  }
  const reports = await predictPieces(predictor, pieces, o);
  const trunk = isPackage ? reports.filter((r) => r.piece.startsWith('segment')) : reports;
  const measured = trunk.every((r) => r.measured_ms !== undefined) ? round(trunk.reduce((s, r) => s + r.measured_ms!, 0)) : undefined;
  return {
    target,
    kind: isPackage ? 'package' : 'file',
    ep: o.ep,
    threads: o.threads,
    cpu_util: o.cpuUtil,
    pieces: reports,
    total_ms: round(trunk.reduce((s, r) => s + r.total_ms, 0)),
    ...(measured !== undefined && { measured_ms: measured }),
  };
}
