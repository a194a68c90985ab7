import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { ExecutionProvider } from '@outlet/inference';
import {
  DEFAULT_FEATURE_SET, defaultPredictorPath, EvalRow, evaluatePredictor, FEATURE_SETS, FIT_DEFAULTS, FIT_QUICK, fitFromZoo,
  loadPredictor, refit,
} from '@outlet/predictor';
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
