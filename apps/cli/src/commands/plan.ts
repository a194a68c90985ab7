import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { formatPlan } from '@outlet/contracts';
import { PLAN_TABLE_FILE, ModelPackage, modelsHome, planTableFile, readPackageJson } from '@outlet/model-package';
import {
  CALIBRATION_FILE,
  CalibrationFile,
  HANDOFF_TRANSPORTS,
  HandoffTransport,
  PlanResult,
  StageTimesMs,
  TRANSFER_FILE,
  planModel,
  transferModelFrom,
  utilizationCentres,
} from '@outlet/planner';
import { readTrunkSettings } from '@outlet/config';
import { kernelPieceTimes, kernelPredictorPathFor, loadKernelPredictor, loadPredictor, stageTimes } from '@outlet/predictor';
import { PROFILE_FILE, ProfileFile, cachedProfileHere, cachedTransferHere, machineFingerprint, otherMachineWarning, readCachedTransfer } from '@outlet/profiler';
import { numberIn } from '../offline/option-parsers';
import { resolveModelPackage } from '../offline/model-arg';

const round = (v: number) => Math.round(v * 1000) / 1000;
const rate = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);

function needed<T>(pkg: ModelPackage, file: string, how: string): T {
  const value = readPackageJson<T>(pkg, file);
  if (!value) throw new Error(`${pkg.manifest.name} has no ${file}: run '${how}' first`);
  return value;
}

function describe(cpuUtil: number, r: PlanResult, backlog: PlanResult, source: string) {
  const preset = (name: 'serial' | 'parallel' | 'full') => ({ ms: round(r.presets[name]), tasks_per_s: rate(r.presetsTasksPerS[name]) });
  return {
    cpu_util: cpuUtil,
    plan: formatPlan(r.plan),
    expected_ms: round(r.expectedMs),
    presets_ms: { serial: round(r.presets.serial), parallel: round(r.presets.parallel), full: round(r.presets.full) },
    backlog_plan: formatPlan(backlog.plan),
    /** Predicted expected latency (no backlog) and tasks/s (with a backlog) of every plan a benchmark runs. */
    predicted: {
      serial: preset('serial'),
      parallel: preset('parallel'),
      full: preset('full'),
      auto: { plan: formatPlan(r.plan), ms: round(r.expectedMs), tasks_per_s: rate(r.occupancy.tasksPerS) },
      auto_backlog: { plan: formatPlan(backlog.plan), ms: round(backlog.expectedMs), tasks_per_s: rate(backlog.occupancy.tasksPerS) },
    },
    occupancy_ms: {
      auto: { trunk: round(r.occupancy.trunkMs), branch: round(r.occupancy.branchMs), bottleneck: r.occupancy.bottleneck },
      auto_backlog: { trunk: round(backlog.occupancy.trunkMs), branch: round(backlog.occupancy.branchMs), bottleneck: backlog.occupancy.bottleneck },
    },
    answer_share: r.answerShare.map(round),
    stage_times_ms: {
      source,
      segments: r.inputs.segmentMs.map(round),
      trunk_heads: r.inputs.trunkHeadMs.map(round),
      ...(r.inputs.fusedHeadMs ? { fused_heads: r.inputs.fusedHeadMs.map(round) } : {}),
      branch_heads: r.inputs.branchHeadMs.map(round),
      handoff: r.inputs.handoffMs.map(round),
      handoff_trunk: r.inputs.handoffTrunkMs.map(round),
      abort: round(r.inputs.abortMs),
    },
    search: `${r.search} over ${r.plansEvaluated} plans, ${r.statistics} exit statistics`,
  };
}

/** `outlet plan`: where each exit head should run, for each level of CPU load. */
export function registerPlan(program: Command): void {
  program
    .command('plan <model>')
    .description(
      'choose where each early exit head runs (branch | trunk | skip) for the lowest expected latency and, with a backlog of tasks, ' +
        'the highest throughput, from the stage times ' +
        '(profile.json, else the latency predictor), the hand-off model (transfer.json) and the exit statistics (calibration.json)',
    )
    .option('--cpu-util <u>', 'plan for this CPU utilization only (0..1)', numberIn(0, 1))
    .option('--json', 'print JSON: the chosen plans, every preset\'s predicted latency and tasks/s beside them, every stage time used', false)
    .option('--write', `store the plan table over utilization buckets in the package (${PLAN_TABLE_FILE}, or plans-<ep>.json for an accelerator trunk); plan=auto uses it`, false)
    .addOption(new Option('--trunk-ep <ep>', "the trunk's execution provider").choices(['cpu', 'webgpu', 'cuda']).default('cpu'))
    .option('--predictor <file>', 'whole-model latency predictor for pieces the profile lacks, where the kernel-level one has none (default: models/predictor.json)')
    .option('--kernel-predictor <file>', 'kernel-level latency predictor for pieces the profile lacks (default: models/kernel-predictor.json, when it exists)')
    .option('--no-profile', "plan from predictions alone, leaving the package's profile.json aside")
    .addOption(
      new Option('--answer-at <when>', "when a branch decision answers: 'decision' (the branch worker answers at once, as the workers do) or 'boundary' (the trunk notices it before its next segment)")
        .choices(['boundary', 'decision'])
        .default('decision'),
    )
    .addOption(
      new Option('--transport <t>', 'how features reach the branch worker (its hand-off model from transfer.json; the main one if the file lacks it)')
        .choices([...HANDOFF_TRANSPORTS])
        .default('shm'),
    )
    .option('--models-dir <dir>', 'folder of model packages', modelsHome())
    .action((model: string, opts: PlanOptions & { modelsDir: string }) => planPackage(resolveModelPackage(model, opts.modelsDir), opts));
}

export interface PlanOptions {
  cpuUtil?: number;
  json: boolean;
  write: boolean;
  trunkEp: 'cpu' | 'webgpu' | 'cuda';
  predictor?: string;
  kernelPredictor?: string;
  /** false: every stage time predicted (commander's --no-profile). */
  profile?: boolean;
  answerAt: 'boundary' | 'decision';
  transport: HandoffTransport;
}

/** Plan a package (see the command's help): print the plans and, with `write`, store the plan table. */
export async function planPackage(pkg: ModelPackage, opts: PlanOptions): Promise<void> {
  const calibration = needed<CalibrationFile>(pkg, CALIBRATION_FILE, `outlet calibrate ${pkg.manifest.name} --data mnist:val --holdout mnist:test`);
  const predictor = loadPredictor(opts.predictor);
  // Pieces on the trunk's provider run with the trunk's thread budget, heads on the CPU with the branch worker's.
  const trunk = readTrunkSettings();
  const threads = { cpu: trunk.branchThreads, [opts.trunkEp]: trunk.threads };
  const kernelPredictor = loadKernelPredictor(opts.kernelPredictor ?? kernelPredictorPathFor(opts.trunkEp, threads[opts.trunkEp]));
  const ignoreProfile = opts.profile === false;
  // This machine's own profile (outlet profile, or a node started here) before the package's example.
  const own = ignoreProfile ? undefined : cachedProfileHere(pkg, trunk.cacheDir, opts.trunkEp, trunk.threads, trunk.branchThreads);
  // And its own hand-off model (outlet transfer: keyed as a cpu trunk with this machine's thread budgets).
  const ownTransfer = readCachedTransfer(cachedTransferHere(trunk.cacheDir, trunk.threads, trunk.branchThreads));
  if (ownTransfer) {
    pkg.own = { ...pkg.own, [TRANSFER_FILE]: ownTransfer };
    console.error(`hand-off model from this machine's own ${TRANSFER_FILE} (outlet transfer) in place of the package's`);
  }
  if (own) {
    pkg.own = { ...pkg.own, [PROFILE_FILE]: own.profile };
    console.error(`stage times from this machine's own profile of ${pkg.manifest.name} (measured by ${own.measuredBy} at ${own.measuredAt}) in place of the package's ${PROFILE_FILE}`);
  }
  const transfer = transferModelFrom(needed<unknown>(pkg, TRANSFER_FILE, `outlet transfer ${pkg.manifest.name}`));
  const kernels = kernelPredictor ? await kernelPieceTimes(pkg, kernelPredictor, threads, ignoreProfile) : undefined;
  let source = '';
  const times = (u: number) => {
    // fusedHeads: extra ms of an inline head fused with its segment, when the stage times have it.
    const t: StageTimesMs & { source: string } = stageTimes(pkg, opts.trunkEp, u, predictor, { kernels, ignoreProfile });
    source = t.source;
    return { segments: t.segments, trunkHeads: t.trunkHeads, branchHeads: t.branchHeads, ...(t.fusedHeads ? { fusedHeads: t.fusedHeads } : {}) };
  };
  const utilizations = opts.cpuUtil !== undefined ? [opts.cpuUtil] : utilizationCentres();
  const out = planModel({ manifest: pkg.manifest, stageTimes: times, transfer, calibration, utilizations, answerAt: opts.answerAt, transport: opts.transport });
  const rows = out.results.map(({ cpuUtil, result, backlog }) => describe(cpuUtil, result, backlog, source));

  // The machine the stage times were measured on: the profile's where it gave them, else the kernel predictor's.
  const profile = ignoreProfile ? undefined : readPackageJson<ProfileFile>(pkg, PROFILE_FILE);
  const measuredOn = source === 'profile' ? profile?.machine : (kernelPredictor?.machine ?? profile?.machine);
  const hardware = measuredOn ? machineFingerprint(measuredOn, opts.trunkEp, threads[opts.trunkEp], threads.cpu) : undefined;
  const warning = otherMachineWarning(`the stage times of ${pkg.manifest.name} (${source})`, measuredOn, opts.trunkEp, threads[opts.trunkEp]);
  if (warning) console.error(warning);
  const tableFile = join(pkg.dir, planTableFile(opts.trunkEp));
  if (opts.write) {
    if (opts.cpuUtil !== undefined) throw new Error('--write stores the whole table: leave out --cpu-util');
    writeFileSync(tableFile, JSON.stringify({ ...out.table, trunk_ep: opts.trunkEp, stage_times_source: source, ...(hardware ? { hardware } : {}) }, null, 2) + '\n');
  }
  if (opts.json) {
    console.log(JSON.stringify(opts.cpuUtil !== undefined ? { model: pkg.manifest.name, ...rows[0] } : { model: pkg.manifest.name, plans: rows, table: out.table }, null, 2));
  } else {
    console.log(`${pkg.manifest.name}: trunk on ${opts.trunkEp}, stage times from ${source}, ${rows[0].search}, answer at ${opts.answerAt}`);
    console.log(`method: ${out.table.method}`);
    console.log('predicted: expected ms (one task alone) / tasks/s (with a backlog)');
    const cell = (p: { ms: number; tasks_per_s: number | null }) => `${p.ms.toFixed(3)}/${p.tasks_per_s === null ? '∞' : p.tasks_per_s.toFixed(1)}`.padStart(16);
    console.log(`cpu_util  ${'auto plan'.padEnd(24)}  ${'backlog plan'.padEnd(24)}  ${'auto'.padStart(16)}  ${'auto (backlog)'.padStart(16)}  ${'serial'.padStart(16)}  ${'parallel'.padStart(16)}  ${'full'.padStart(16)}`);
    for (const r of rows) {
      const p = r.predicted;
      console.log(
        `${r.cpu_util.toFixed(2).padEnd(8)}  ${r.plan.padEnd(24)}  ${r.backlog_plan.padEnd(24)}  ${cell(p.auto)}  ${cell(p.auto_backlog)}  ${cell(p.serial)}  ${cell(p.parallel)}  ${cell(p.full)}`,
      );
    }
    if (opts.write) console.log(`wrote ${tableFile}`);
  }
}
