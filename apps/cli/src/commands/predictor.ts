import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { ExecutionProvider } from '@outlet/inference';
import {
  defaultKernelPredictorPath, fitKernelPredictor, refitKernelPredictor, KERNEL_FIT_DEFAULTS, KERNEL_FIT_QUICK, ScoreRow,
  DEFAULT_FEATURE_SET, defaultPredictorPath, EvalRow, evaluatePredictor, FEATURE_SETS, FIT_DEFAULTS, FIT_QUICK, fitFromZoo,
  loadPredictor, refit, ADAPT_DEFAULTS, adaptationSource, adaptKernelPredictor, adaptedPredictorPath, compareOnArchitectures, EVALUATION_PASSES, evaluationModels, loadKernelPredictor,
} from '@outlet/predictor';
import { describeFingerprint } from '@outlet/contracts';
import { round, summarize } from '@outlet/profiler';
import { loadModelPackages, modelsHome } from '@outlet/model-package';
import { commaList } from '../offline/option-parsers';
import { parseLevels, parsePositiveInt, progressBar } from './progress';

function evalTable(rows: EvalRow[]): string {
  const lines = ['held-out zoo models: share within ±10% of the measured median, within ±20%, MAPE, median APE'];
  lines.push(`${'ep'.padEnd(8)}${'u'.padStart(6)}${'n'.padStart(5)}${'±10%'.padStart(8)}${'±20%'.padStart(8)}${'MAPE%'.padStart(8)}${'MdAPE%'.padStart(8)}`);
  for (const r of rows) {
    const u = r.cpu_util === 'all' ? 'all' : String(r.cpu_util);
    lines.push(
      `${r.ep.padEnd(8)}${u.padStart(6)}${String(r.n).padStart(5)}${(100 * r.within_10pct).toFixed(0).padStart(7)}%${(100 * r.within_20pct).toFixed(0).padStart(7)}%${r.mape.toFixed(1).padStart(8)}${r.median_ape.toFixed(1).padStart(8)}`,
    );
  }
  return lines.join('\n');
}

/** Score rows of the kernel predictor: predicted vs measured whole calls, beside the noise floor. */
export function scoreTable(rows: ScoreRow[]): string {
  const lines = ['whole calls: share within ±10% / ±20% of the measured median and MAPE; noise floor: the same between two halves of the measurement'];
  lines.push(`${'set'.padEnd(14)}${'ep'.padEnd(7)}${'thr'.padStart(4)}${'u'.padStart(6)}${'n'.padStart(5)}${'±10%'.padStart(7)}${'±20%'.padStart(7)}${'MAPE%'.padStart(8)}${'noise ±10%'.padStart(12)}${'±20%'.padStart(7)}${'MAPE%'.padStart(8)}`);
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`.padStart(7);
  for (const r of rows) {
    lines.push(`${r.set.padEnd(14)}${r.ep.padEnd(7)}${String(r.threads).padStart(4)}${String(r.cpu_util).padStart(6)}${String(r.n).padStart(5)}${pct(r.within_10pct)}${pct(r.within_20pct)}${r.mape.toFixed(1).padStart(8)}${pct(r.noise_within_10pct).padStart(12)}${pct(r.noise_within_20pct)}${r.noise_mape.toFixed(1).padStart(8)}`);
  }
  return lines.join('\n');
}

/** Every package in the models folder (their pieces are scored). */
function packageDirs(): string[] {
  const modelsDir = modelsHome();
  return existsSync(modelsDir) ? [...loadModelPackages(modelsDir).values()].map((p) => p.dir) : [];
}

/** The whole ONNX files under training/ (scored as they are). */
function trainingFiles(): string[] {
  return existsSync('training') ? readdirSync('training').filter((f) => f.endsWith('.onnx')).map((f) => join('training', f)) : [];
}

export function registerPredictor(program: Command): void {
  const predictor = program
    .command('predictor')
    .description('latency predictor: run time of a segment or exit head from its ONNX cost features (FLOPs and bytes by layer type, op count), per execution provider and CPU utilization');

  predictor
    .command('fit')
    .description(
      `generate a zoo of conv / pool / fully-connected ONNX models, measure them on every provider that works at background CPU utilization levels, fit per provider and level by non-negative least squares, and evaluate on a held-out part of the zoo; writes the predictor (with the zoo measurements) as JSON`,
    )
    .option('--out <path>', `where to write the predictor (default ${defaultPredictorPath()}, or $OUTLET_PREDICTOR)`)
    .option('--quick', `a smaller, faster fit: ${FIT_QUICK.count} models, levels ${FIT_QUICK.levels.join(',')}, ${FIT_QUICK.runs} runs`)
    .option('--count <n>', `zoo size (default ${FIT_DEFAULTS.count})`)
    .option('--levels <list>', `background CPU utilization levels (default ${FIT_DEFAULTS.levels.join(',')})`)
    .option('--runs <n>', `timed runs per model and level (default ${FIT_DEFAULTS.runs})`)
    .option('--seed <n>', `zoo and split seed (default ${FIT_DEFAULTS.seed})`)
    .option('--holdout <share>', `share of the zoo held out for evaluation (default ${FIT_DEFAULTS.holdoutShare})`)
    .option('--threads <n>', 'intra-op thread budget of each session (default 1)')
    .option('--eps <list>', 'execution providers to try (default cpu,webgpu,cuda)')
    .option('--group <n>', `zoo models timed round-robin together at each level (default ${FIT_DEFAULTS.groupSize}: each model in a tight loop)`)
    .option('--features <set>', `feature set: ${Object.keys(FEATURE_SETS).join(' or ')} (default ${DEFAULT_FEATURE_SET})`)
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const base = opts.quick ? FIT_QUICK : FIT_DEFAULTS;
      const out = (opts.out as string | undefined) ?? defaultPredictorPath();
      const bar = progressBar('predictor fit');
      const started = Date.now();
      let fitted;
      try {
        fitted = await fitFromZoo({
          ...base,
          count: opts.count ? parsePositiveInt('--count')(String(opts.count)) : base.count,
          levels: opts.levels ? parseLevels(String(opts.levels)) : base.levels,
          runs: opts.runs ? parsePositiveInt('--runs')(String(opts.runs)) : base.runs,
          seed: opts.seed ? Number(opts.seed) : base.seed,
          holdoutShare: opts.holdout ? Number(opts.holdout) : base.holdoutShare,
          threads: opts.threads ? parsePositiveInt('--threads')(String(opts.threads)) : 1,
          eps: opts.eps ? (String(opts.eps).split(',').map((s) => s.trim()) as ExecutionProvider[]) : undefined,
          featureSet: opts.features ? String(opts.features) : undefined,
          groupSize: opts.group ? parsePositiveInt('--group')(String(opts.group)) : undefined,
          onProgress: bar.update,
          onNote: (msg) => process.stderr.write(`${msg}\n`),
        });
      } finally {
        bar.stop();
      }
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(fitted, null, 1)}\n`);
      console.log(evalTable(fitted.evaluation ?? []));
      console.log(`fitted in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${out}`);
    });

  predictor
    .command('fit-kernels')
    .description(
      'fit the kernel-level predictor (`outlet predict`): sample ResNet / VGG / MobileNet / pooling / FC blocks, list the kernels onnxruntime runs for each after its fusions, time every kernel (profiler) and whole call (interleaved, median, two halves for the noise floor) per provider, thread count and CPU load level, refine where the cross-validated error is largest, fit per-kernel-class random forests on a FLOPs/bytes baseline, and score on held-out blocks, real-architecture stacks and the packages beside the noise floor',
    )
    .option('--out <path>', `where to write the predictor (default ${defaultKernelPredictorPath()}, or $OUTLET_KERNEL_PREDICTOR)`)
    .option('--measurements <path>', 'also write every measurement (kernels and runs per model) as JSON')
    .option('--quick', `a smaller, faster fit: ${KERNEL_FIT_QUICK.count}+${KERNEL_FIT_QUICK.refine} blocks, levels ${KERNEL_FIT_QUICK.levels.join(',')}, ${KERNEL_FIT_QUICK.runs} runs`)
    .option('--count <n>', `training blocks of the first pass (default ${KERNEL_FIT_DEFAULTS.count})`)
    .option('--refine <n>', `blocks added by adaptive refinement (default ${KERNEL_FIT_DEFAULTS.refine})`)
    .option('--levels <list>', `background CPU utilization levels (default ${KERNEL_FIT_DEFAULTS.levels.join(',')})`)
    .option('--threads <list>', 'intra-op thread counts to fit (default 1)')
    .option('--runs <n>', `timed rounds per model and level (default ${KERNEL_FIT_DEFAULTS.runs})`)
    .option('--group <n>', `models timed round-robin together (default ${KERNEL_FIT_DEFAULTS.groupSize}: each alone, run over and over, as outlet predict --measure times a file and a worker runs it)`)
    .option('--seed <n>', `block sampling and split seed (default ${KERNEL_FIT_DEFAULTS.seed})`)
    .option('--eps <list>', 'execution providers to try (default cpu,webgpu,cuda)')
    .option('--packages <list>', 'model package folders whose pieces are scored (default: every package in the models folder)', commaList)
    .option('--files <list>', 'whole ONNX files scored as they are (default: training/*.onnx)', commaList)
    .option('--cpus <list>', 'cores (taskset list) the measuring thread and its onnxruntime threads are pinned to (default: the last <threads> cores)')
    .option('--no-architectures', 'skip scoring the real-architecture stacks')
    .option('--from-measurements <path>', 'measure nothing: fit and score again from an earlier fit\'s --measurements file')
    .action(async (opts: Record<string, string | string[] | boolean | undefined>) => {
      const base = opts.quick ? KERNEL_FIT_QUICK : KERNEL_FIT_DEFAULTS;
      const out = (opts.out as string | undefined) ?? defaultKernelPredictorPath();
      if (opts.fromMeasurements) {
        const predictor = refitKernelPredictor(JSON.parse(readFileSync(String(opts.fromMeasurements), 'utf8')));
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${JSON.stringify(predictor)}\n`);
        console.log(scoreTable((predictor.evaluation as { rows: ScoreRow[] }).rows));
        console.log(`refitted from ${opts.fromMeasurements}; wrote ${out}`);
        return;
      }
      const packages = (opts.packages as string[] | undefined) ?? packageDirs();
      const files = (opts.files as string[] | undefined) ?? trainingFiles();
      const bar = progressBar('kernel predictor fit');
      let result;
      try {
        result = await fitKernelPredictor({
          ...base,
          count: opts.count ? parsePositiveInt('--count')(String(opts.count)) : base.count,
          refine: opts.refine !== undefined ? Number(opts.refine) : base.refine,
          levels: opts.levels ? parseLevels(String(opts.levels)) : base.levels,
          threads: opts.threads ? String(opts.threads).split(',').map((t) => parsePositiveInt('--threads')(t.trim())) : base.threads,
          runs: opts.runs ? parsePositiveInt('--runs')(String(opts.runs)) : base.runs,
          groupSize: opts.group ? parsePositiveInt('--group')(String(opts.group)) : base.groupSize,
          seed: opts.seed ? Number(opts.seed) : base.seed,
          eps: opts.eps ? (String(opts.eps).split(',').map((s) => s.trim()) as ExecutionProvider[]) : undefined,
          architectures: opts.architectures !== false,
          packages,
          files,
          cpus: opts.cpus ? String(opts.cpus) : undefined,
          onProgress: bar.update,
          onNote: (msg) => process.stderr.write(`\n${msg}\n`),
        });
      } finally {
        bar.stop();
      }
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(result.predictor)}\n`);
      if (opts.measurements) writeFileSync(String(opts.measurements), `${JSON.stringify(result.measured)}\n`);
      const score = result.predictor.evaluation as { rows: ScoreRow[] };
      console.log(scoreTable(score.rows));
      console.log(`fitted in ${result.predictor.fit?.seconds} s; wrote ${out}`);
    });

  predictor
    .command('adapt')
    .description(
      "adapt the shipped kernel predictor to this machine: measure a few dozen seeded blocks (conv, depthwise, pooling, fully-connected stacks) here within a time budget, fit per kernel class a scale and the call's overhead a scale and a constant (non-negative least squares on relative error), and write this machine's predictor, keyed by its hardware fingerprint, where `outlet predict` and `outlet plan` find it with no flag",
    )
    .option('--minutes <n>', `time budget for measuring (default ${ADAPT_DEFAULTS.seconds / 60})`)
    .option('--ep <ep>', 'execution provider (cpu|webgpu|cuda)', ADAPT_DEFAULTS.ep)
    .option('--threads <n>', 'intra-op threads of the sessions (the trunk budget to predict for)', String(ADAPT_DEFAULTS.threads))
    .option('--predictor <path>', `the predictor to adapt (default ${defaultKernelPredictorPath()})`)
    .option('--out <path>', 'where to write it (default models/predictors/kernel-<fingerprint>.json)')
    .option('--cpus <list>', 'cores (taskset list) to measure on (default: the last <threads> cores)')
    .option('--evaluate', `then measure the real architectures and the packages' pieces (and training/*.onnx) in ${EVALUATION_PASSES} passes and score the predictor before and after against their median, beside the noise floor (how often one pass alone comes within ±10 % of that median)`)
    .option('--json', 'print the adaptation (and the evaluation) as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const ep = String(opts.ep) as ExecutionProvider;
      const threads = parsePositiveInt('--threads')(String(opts.threads));
      const minutes = opts.minutes === undefined ? ADAPT_DEFAULTS.seconds / 60 : Number(opts.minutes);
      if (!(minutes > 0 && minutes <= 60)) throw new Error(`--minutes must be above 0 and at most 60, not '${opts.minutes}'`);
      const from = (opts.predictor as string | undefined) ?? defaultKernelPredictorPath();
      const base = loadKernelPredictor(from);
      if (!base) throw new Error(`no kernel predictor at ${from} to adapt`);
      const out = (opts.out as string | undefined) ?? adaptedPredictorPath(ep, threads);
      const bar = progressBar('predictor adapt');
      let result;
      try {
        result = await adaptKernelPredictor(base, { ep, threads, seconds: minutes * 60, cpus: opts.cpus as string | undefined, onProgress: bar.update });
      } finally {
        bar.stop();
      }
      const { predictor: adapted, adaptation: a } = result;
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${JSON.stringify(adapted, null, 1)}\n`);
      const evaluation = opts.evaluate
        ? await compareOnArchitectures(adaptationSource(base, ep), adapted, evaluationModels(packageDirs(), trainingFiles()), { ep, threads, cpus: opts.cpus as string | undefined })
        : undefined;
      // The local correction's blocks (hundreds) are in the file; here, how many and how far they spread.
      const spread = a.local && summarize(a.local.blocks.map((b) => b.residual));
      const local = a.local && spread && { k: a.local.k, size_weight: a.local.size_weight, blocks: spread.n, residual_p10: round(spread.p10), residual_p90: round(spread.p90) };
      if (opts.json) {
        console.log(JSON.stringify({ out, from, adaptation: { ...a, local }, evaluation }, null, 2));
        return;
      }
      console.log(`${out}: ${from} adapted to ${describeFingerprint(a.fingerprint)}`);
      const quiet = a.fit.repeatable === undefined ? '' : `; ${a.fit.visited_twice ? 'the two visits' : 'the halves'} of ${Math.round(100 * a.fit.repeatable)} % of them agree within ±10 % (how quiet the machine was)`;
      console.log(`  ${a.fit.blocks} blocks measured in ${a.fit.seconds} s (cores ${a.fit.cpus ?? 'any'}), ${a.fit.visited_twice ?? 0} of them twice (the faster visit counts); their MAPE ${a.fit.mape_before} % -> ${a.fit.mape_after} %${quiet}`);
      console.log(`  per kernel class, scale (+ ms per kernel)${a.size_split ? ` (a class/small scale is its kernels' at ${a.size_split.small_ms} ms and under, the class's at ${a.size_split.large_ms} ms and over, mixed between)` : ''}${a.width_split ? ` (conv/narrow is a convolution's with ${a.width_split.narrow_c} output channels and fewer, conv's with ${a.width_split.wide_c} and more, mixed between)` : ''}: ${Object.entries(a.scale).map(([c, v]) => `${c} ${v}${a.per_kernel_ms?.[c as keyof typeof a.scale] ? ` (+${a.per_kernel_ms[c as keyof typeof a.scale]})` : ''}`).join(', ')}; overhead × ${a.overhead_scale} + ${a.overhead_ms} ms`);
      if (local) console.log(`  then × the median residual of the ${local.k} most alike of ${local.blocks} blocks (their residuals after the scales: 10th-90th percentile ${local.residual_p10}-${local.residual_p90})`);
      if (evaluation) {
        const line = (name: string, r: ScoreRow) =>
          `  ${name.padEnd(7)} n=${r.n}  within ±10% ${(100 * r.within_10pct).toFixed(0)}%  ±20% ${(100 * r.within_20pct).toFixed(0)}%  MAPE ${r.mape.toFixed(1)}%   noise floor: within ±10% ${(100 * r.noise_within_10pct).toFixed(0)}%, MAPE ${r.noise_mape.toFixed(1)}%`;
        console.log(`real architectures and package pieces on ${ep}, ${threads} thread(s), no load (${EVALUATION_PASSES} passes, the truth their median; noise floor: one pass alone against that median):`);
        console.log(line('before', evaluation.before));
        console.log(line('after', evaluation.after));
      }
    });

  predictor
    .command('eval')
    .description('evaluate a fitted predictor on its held-out zoo measurements: share of predictions within ±10% of the measured median, and MAPE, per provider and utilization level')
    .option('--predictor <path>', `fitted predictor (default ${defaultPredictorPath()}, or $OUTLET_PREDICTOR)`)
    .option('--refit', 'refit the coefficients from the stored zoo measurements before evaluating (nothing is written)')
    .option('--features <set>', `with --refit: the feature set to refit on (${Object.keys(FEATURE_SETS).join(', ')})`)
    .option('--json', 'print the metrics as JSON')
    .action((opts: { predictor?: string; refit?: boolean; features?: string; json?: boolean }) => {
      const path = opts.predictor ?? defaultPredictorPath();
      const loaded = loadPredictor(path);
      if (!loaded) throw new Error(`no fitted predictor at ${path}: run \`outlet predictor fit\` first`);
      if (opts.features && !opts.refit) throw new Error('--features needs --refit');
      const p = opts.refit ? refit(loaded, opts.features) : loaded;
      const rows = evaluatePredictor(p);
      if (opts.json) console.log(JSON.stringify(rows, null, 2));
      else {
        const fit = p.zoo?.entries.filter((e) => e.set === 'fit').length ?? 0;
        const hold = p.zoo?.entries.filter((e) => e.set === 'holdout').length ?? 0;
        console.log(`${path}: fitted ${p.created_at} on ${p.machine?.cpu_model ?? '?'} (${p.machine?.cores ?? '?'} cores), ${fit} fit / ${hold} held-out zoo models, threads ${p.threads}, features ${p.feature_set ?? '?'} (${p.feature_names.join(', ')})`);
        const levels = Object.entries(p.models).map(([ep, ls]) => `${ep}: ${ls.map((l) => `u=${l.cpu_util} → machine ${l.achieved_util}, load threads ${l.load_util ?? '?'}`).join('; ')}`);
        console.log(`achieved utilization per level (machine-wide /proc/stat; the load generator's own share): ${levels.join(' | ')}`);
        console.log(evalTable(rows));
      }
    });
}
