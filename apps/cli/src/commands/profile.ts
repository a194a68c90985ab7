import { hostname } from 'node:os';
import { Command } from 'commander';
import { readBranchSettings, readTrunkSettings } from '@outlet/config';
import { ModelPackage } from '@outlet/model-package';
import { AUTO_EP_ORDER, ExecutionProvider } from '@outlet/inference';
import { DEFAULT_LEVELS, ProfileFile, QUICK_PROFILE, profilePackage, storedProfileOf, writeCachedProfile, writeProfile } from '@outlet/profiler';
import { parseLevels, parsePositiveInt, progressBar } from './progress';
import { resolveModelPackage } from '../offline/model-arg';

function summaryTable(profile: ProfileFile): string {
  const threads = `${profile.threads} trunk thread(s), ${profile.branch_threads ?? profile.threads} branch head thread(s) on cpu`;
  const lines = [`${profile.model}: median ms (p10–p90) at background CPU utilization (achieved); ${threads}`];
  for (const ep of profile.eps) {
    const header = profile.utilization_levels.map((u, i) => `u=${u} (${profile.achieved_utilization[i]})`.padStart(22)).join('');
    lines.push(`  ${ep.padEnd(12)}${header}`);
    const keys = [...new Set(profile.measurements.filter((m) => m.ep === ep).map((m) => `${m.piece}:${m.index}`))];
    for (const key of keys) {
      const [piece, index] = key.split(':');
      const cells = profile.utilization_levels.map((u) => {
        const m = profile.measurements.find((x) => x.ep === ep && x.piece === piece && x.index === Number(index) && x.cpu_util === u);
        return (m ? `${m.median_ms.toFixed(3)} (${m.p10_ms.toFixed(3)}–${m.p90_ms.toFixed(3)})` : '-').padStart(22);
      });
      lines.push(`  ${`${piece} ${index}`.padEnd(12)}${cells.join('')}`);
    }
  }
  return lines.join('\n');
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description(
      "measure every segment, exit head and fused segment + exit head pair (one call, as an inline head runs) of a model package on every execution provider that works here (cpu; webgpu, cuda where a session opens), at background CPU utilization levels held by a load generator; stores it as this machine's own profile (local cache, keyed by its hardware fingerprint: a node started here with the same thread budgets uses it and shares it through Redis), and with --write as the package's profile.json (the shipped example and fallback)",
    )
    .argument('<model>', 'model package folder, or package name in the models folder ($OUTLET_MODELS_DIR, else ./models, else the shipped one)')
    .option('--levels <list>', 'background CPU utilization levels, comma separated, 0..1', profileDefaults().levels)
    .option('--runs <n>', 'timed runs per piece, provider and level', profileDefaults().runs)
    .option('--warmup <n>', 'warm-up runs before timing', profileDefaults().warmup)
    // Defaults: the workers' own thread budgets on this node (OUTLET_*_THREADS, else derived from its cores).
    .option('--threads <n>', "intra-op thread budget of the trunk's sessions (segments, fused pairs, heads on accelerators)", profileDefaults().threads)
    .option('--branch-threads <n>', 'intra-op threads of exit heads on cpu, as the branch worker runs them', profileDefaults().branchThreads)
    .option('--no-fused', 'do not time fused segment + exit head pairs')
    .option('--eps <list>', `execution providers to try, comma separated (${AUTO_EP_ORDER.join(', ')})`, profileDefaults().eps)
    .option('--max-ms <ms>', 'stop repeating a piece at one level after this long (at least 5 runs)', profileDefaults().maxMs)
    .option('--quick', `the quick protocol a node runs on itself: levels ${QUICK_PROFILE.levels.join(',')}, ${QUICK_PROFILE.runs} runs, ${QUICK_PROFILE.warmup} warm-up, ${QUICK_PROFILE.maxMsPerPiece} ms per piece and level (overrides those options)`)
    .option('--write', "also write profile.json into the package (the shipped example every node without its own profile falls back to)")
    .option('--dry-run', 'print the summary without storing anything')
    .action(async (model: string, opts: ProfileOptions) => {
      await profileModel(resolveModelPackage(model), opts);
    });
}

/** The profile command's options as commander hands them over (text, parsed by profileModel). */
export interface ProfileOptions {
  levels: string;
  runs: string;
  warmup: string;
  threads: string;
  branchThreads: string;
  fused: boolean;
  eps: string;
  maxMs: string;
  quick?: boolean;
  write?: boolean;
  dryRun?: boolean;
}

/** The defaults of `outlet profile`: the workers' thread budgets on this node. */
export function profileDefaults(): ProfileOptions {
  return {
    levels: DEFAULT_LEVELS.join(','),
    runs: '50',
    warmup: '5',
    threads: String(readTrunkSettings().threads),
    branchThreads: String(readBranchSettings().threads),
    fused: true,
    eps: 'cpu,webgpu,cuda',
    maxMs: '2000',
  };
}

/** Profile a package (see the command's help), print the summary and, unless a dry run, write profile.json. */
export async function profileModel(pkg: ModelPackage, opts: ProfileOptions): Promise<void> {
  const eps = opts.eps.split(',').map((s) => s.trim()) as ExecutionProvider[];
  const unknown = eps.filter((e) => !(AUTO_EP_ORDER as readonly string[]).includes(e));
  if (unknown.length) throw new Error(`unknown execution provider(s): ${unknown.join(', ')}`);
  const bar = progressBar(`profile ${pkg.manifest.name}`);
  const started = Date.now();
  let profile: ProfileFile;
  try {
    profile = await profilePackage(pkg, {
      levels: opts.quick ? [...QUICK_PROFILE.levels] : parseLevels(opts.levels),
      runs: opts.quick ? QUICK_PROFILE.runs : parsePositiveInt('--runs')(opts.runs),
      warmup: opts.quick ? QUICK_PROFILE.warmup : Number(opts.warmup),
      threads: parsePositiveInt('--threads')(opts.threads),
      branchThreads: parsePositiveInt('--branch-threads')(opts.branchThreads),
      fused: opts.fused !== false,
      eps,
      maxMsPerPiece: opts.quick ? QUICK_PROFILE.maxMsPerPiece : Number(opts.maxMs),
      onProgress: bar.update,
      onNote: (msg) => process.stderr.write(`${msg}\n`),
    });
  } finally {
    bar.stop();
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  console.log(summaryTable(profile));
  console.log(`measured in ${seconds} s`);
  if (opts.dryRun) return;
  const cacheDir = readTrunkSettings().cacheDir;
  for (const ep of profile.eps) {
    const stored = storedProfileOf(pkg, profile, ep, hostname(), seconds);
    if (stored) console.log(`stored as this machine's own profile for a ${ep} trunk: ${writeCachedProfile(cacheDir, stored)}`);
  }
  if (opts.write) console.log(`wrote ${writeProfile(pkg, profile)}`);
}
