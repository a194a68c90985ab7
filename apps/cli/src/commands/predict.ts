import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ExecutionProvider } from '@outlet/inference';
import { modelsHome } from '@outlet/model-package';
import { adaptedHere, kernelPredictorPathFor, loadKernelPredictor, PredictReport, predictTarget } from '@outlet/predictor';
import { otherMachineWarning } from '@outlet/profiler';
import { numberIn, positiveInteger } from '../offline/option-parsers';

function table(report: PredictReport, measure: boolean): string {
  const lines: string[] = [];
  lines.push(`${report.target}: ${report.ep}, ${report.threads} thread(s), background CPU utilization ${report.cpu_util}`);
  for (const p of report.pieces) {
    lines.push('', `${p.piece} (${p.file}): ${p.kernels.length} kernels as onnxruntime runs them`);
    lines.push(`  ${'kernel'.padEnd(34)}${'op'.padEnd(26)}${'shape in → out'.padEnd(34)}${'MFLOP'.padStart(10)}${'pred ms'.padStart(10)}${measure ? 'meas ms'.padStart(10) : ''}`);
    for (const k of p.kernels) {
      const shapes = `${(k.input_shape ?? []).join('×')} → ${(k.output_shape ?? []).join('×')}`;
      lines.push(
        `  ${k.name.slice(0, 33).padEnd(34)}${`${k.label} (${k.class})`.slice(0, 25).padEnd(26)}${shapes.slice(0, 33).padEnd(34)}${k.mflop.toFixed(2).padStart(10)}${k.predicted_ms.toFixed(3).padStart(10)}${measure ? (k.measured_ms?.toFixed(3) ?? '-').padStart(10) : ''}`,
      );
    }
    lines.push(`  ${'per-call overhead'.padEnd(104)}${p.overhead_ms.toFixed(3).padStart(10)}`);
    const m = p.measured_ms !== undefined ? `   measured ${p.measured_ms.toFixed(3)} ms (${(100 * (p.total_ms - p.measured_ms) / p.measured_ms).toFixed(1)} %; noise ±${p.measured_noise_pct} %)` : '';
    lines.push(`  total predicted ${p.total_ms.toFixed(3)} ms${m}`);
  }
  if (report.kind === 'package') {
    lines.push('', `trunk (segments in a row): predicted ${report.total_ms.toFixed(3)} ms${report.measured_ms !== undefined ? `, measured ${report.measured_ms.toFixed(3)} ms` : ''}`);
  }
  return lines.join('\n');
}

export function registerPredict(program: Command): void {
  program
    .command('predict <target>')
    .description('predict the run time of an ONNX file (or of every segment and exit head of a model package) kernel by kernel, on the graph onnxruntime executes after its fusions, with the kernel-level predictor (`outlet predictor fit-kernels`)')
    .option('--ep <ep>', 'execution provider (cpu|webgpu|cuda)', 'cpu')
    .option('--threads <n>', 'intra-op threads of the session', positiveInteger, 1)
    .option('--cpu-util <u>', 'background CPU utilization 0..1', numberIn(0, 1), 0)
    .option('--predictor <path>', 'kernel predictor (default: $OUTLET_KERNEL_PREDICTOR, else this machine\'s from `outlet predictor adapt`, else models/kernel-predictor.json)')
    .option('--measure', 'also measure, with the fit\'s protocol: whole call (the median of four warmed sessions\' runs) and each kernel (onnxruntime profiler), beside the prediction')
    .option('--runs <n>', 'timed runs with --measure', positiveInteger, 20)
    .option('--json', 'print JSON: total_ms (one batch-1 call of the file; for a package, its segments in a row), pieces with per-kernel predictions')
    .action(async (target: string, opts: { ep: string; threads: number; cpuUtil: number; predictor?: string; measure?: boolean; runs: number; json?: boolean }) => {
      const path = opts.predictor ?? kernelPredictorPathFor(opts.ep, opts.threads);
      const predictor = loadKernelPredictor(path);
      if (!predictor) throw new Error(`no kernel predictor at ${path}: run \`outlet predictor fit-kernels\` first`);
      const warning = adaptedHere(predictor, opts.ep, opts.threads) ? undefined : otherMachineWarning(`the kernel predictor ${path}`, predictor.machine, opts.ep, opts.threads);
      if (warning) console.error(`${warning} Run \`outlet predictor adapt --ep ${opts.ep} --threads ${opts.threads}\` on this machine.`);
      // A bare package name resolves under the models folder.
      const resolved = existsSync(target) ? target : `${modelsHome()}/${target}`;
      const report = await predictTarget(predictor, resolved, {
        ep: opts.ep as ExecutionProvider, threads: opts.threads, cpuUtil: opts.cpuUtil, measure: opts.measure, runs: opts.runs,
      });
      console.log(opts.json ? JSON.stringify(report, null, 2) : table(report, Boolean(opts.measure)));
    });
}
