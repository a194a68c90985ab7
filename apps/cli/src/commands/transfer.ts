import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { maskRedisUrl, readTrunkSettings } from '@outlet/config';
import { cachedTransferHere } from '@outlet/profiler';
import { HANDOFF_TRANSPORTS, HandoffTransport, TRANSFER_FILE, TransferFile, featureBytes, handoffMs, handoffTrunkMs } from '@outlet/planner';
import { ProbeOptions, measureHandoff } from '../offline/handoff-probe';
import { integerIn } from '../offline/option-parsers';
import { ModelPackage, compactJson, modelsHome } from '@outlet/model-package';
import { resolveModelPackage } from '../offline/model-arg';

const DEFAULT_SIZES = '1k,2k,4k,8k,16k,32k,64k,128k,256k,512k,1m,2m,4m';
/** --quick: fewer sizes (still 1 KB..4 MB, the 784 KB features in between), rounds and claims. */
const QUICK = { sizes: '1k,16k,128k,512k,1m,4m', reps: 15, warmup: 3, notifyReps: 100 };

/** "shm,redis" → transports, each one the workers have. */
export function parseTransports(text: string): HandoffTransport[] {
  const list = text.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) {
    if (!(HANDOFF_TRANSPORTS as readonly string[]).includes(t)) throw new InvalidArgumentError(`'${t}' is not a transport (${HANDOFF_TRANSPORTS.join(', ')})`);
  }
  if (list.length === 0) throw new InvalidArgumentError('name at least one transport');
  return [...new Set(list)] as HandoffTransport[];
}

/** "1k,64k,4m" → bytes (k = 1024, m = 1024²), each a whole number of FP32 values. */
export function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?\s*$/.exec(part);
    if (!m) throw new InvalidArgumentError(`'${part}' is not a size like 4096, 64k or 4m`);
    const bytes = Math.round(Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1024 : m[2].toLowerCase() === 'm' ? 1024 * 1024 : 1));
    if (bytes < 4 || bytes % 4 !== 0) throw new InvalidArgumentError(`${part} is not a positive multiple of 4 bytes (FP32 values)`);
    return bytes;
  });
  if (new Set(sizes).size < 2) throw new InvalidArgumentError('give at least two different sizes');
  return sizes;
}

type Counts = 'sizes' | 'reps' | 'warmup' | 'notifyReps';
/** The probe's options, as commander parses them (counts left out: the defaults, or --quick's), plus where the result goes. */
export interface TransferOptions extends Omit<ProbeOptions, 'log' | Counts>, Partial<Pick<ProbeOptions, Counts>> {
  out?: string;
  quick?: boolean;
  write?: boolean;
  modelsDir: string;
  dryRun?: boolean;
}

export function registerTransfer(program: Command): void {
  program
    .command('transfer')
    .description(
      'measure the trunk → branch hand-off through every transport the workers have, side by side (shm: a /dev/shm file + BullMQ subjob; ' +
        'redis: SET PX + subjob; taken by a worker in another process) for feature sizes 1 KB..4 MB, and the answer path (claim → heard); ' +
        'fit fixed + per-byte ms per transport; write transfer.json (version 2)',
    )
    .argument('[model]', "model package (name or folder): show its exits' predicted hand-off (and with --write, write <package>/transfer.json)")
    .option('--sizes <list>', `feature sizes in bytes (k = 1024, m = 1024²) (default ${DEFAULT_SIZES}; --quick ${QUICK.sizes})`, parseSizes)
    .option('--transports <list>', `transports to measure, side by side (${HANDOFF_TRANSPORTS.join(',')})`, parseTransports, [...HANDOFF_TRANSPORTS])
    .option('--reps <n>', `timed rounds (one hand-off of every size and transport per round) (default 40; --quick ${QUICK.reps})`, integerIn(3, 100_000))
    .option('--warmup <n>', `untimed rounds over all sizes first (default 10; --quick ${QUICK.warmup})`, integerIn(0, 10_000))
    .option('--gap-ms <ms>', 'pause before each hand-off, letting the last one settle', integerIn(0, 1000), 3)
    .option('--notify-reps <n>', `answers claimed and timed (claim → heard) (default 200; --quick ${QUICK.notifyReps})`, integerIn(10, 100_000))
    .option('--quick', 'fewer sizes, rounds and claims: a few seconds', false)
    .option('--feature-dir <dir>', "root of the nodes' shared-memory feature folders (default: OUTLET_FEATURE_DIR, else /dev/shm/outlet)", process.env.OUTLET_FEATURE_DIR)
    .option('--redis-url <url>', 'measure on this Redis instead of a private redis-server')
    .option('--out <file>', "write here instead of this machine's own hand-off model (the local cache, OUTLET_CACHE_DIR/transfer/<fingerprint id>.json)")
    .option('--write', "also write the package's transfer.json (the shipped example every node without its own falls back to)", false)
    .option('--models-dir <dir>', 'models folder (default: OUTLET_MODELS_DIR, else ./models, else the shipped one)', modelsHome())
    .option('--dry-run', 'print only')
    .addHelpText(
      'after',
      `
What is measured (the transports the workers use, on a throwaway redis-server on loopback),
per transport, interleaved with the others round by round:
  hand-off  from before the trunk writes the feature (shm: a file in the node's /dev/shm folder,
            as the trunk's model thread writes it; redis: SET <feature> PX <ttl>) to a BullMQ
            Worker in another process holding it as a Float32Array (subjob added as the trunk's
            TrunkTransport.handOff does; feature taken as the branch's BranchTransport does:
            takeFeatureFile, or one MULTI of EXISTS answer / GET / DEL)
  trunk     what the trunk itself pays: the write (file, or the SET round trip) + the synchronous
            part of queue.add()
  notify    the answer path: a confident head's decision → claimAnswer (SET NX + PUBLISH on the
            gateway's answer channel and the node's trunk channel) → heard by the gateway's
            subscriber (the planner's abortMs; the trunk channel's time is printed beside it)
Fit: least squares of the per-size medians, weighted by 1/y² (relative error), to
fixed_ms + per_byte_ms × bytes, for the hand-off and for the trunk cost, per transport.

transfer.json (version 2: model.transports.<shm|redis>, main model = shm) is a property of the
machine and its Redis, not of the model: it is stored as this machine's own (the local cache, by
hardware fingerprint; a node with that fingerprint and outlet plan use it in place of the
package's), in the package with --write, or where --out says. The planner uses, for the transport it plans for,
handoffMs(bytes) = transfer.fixed_ms + transfer.per_byte_ms × bytes (head runnable after the
segment ends), handoffTrunkMs(bytes) likewise from 'trunk', abortMs = notify_ms.

Examples:
  outlet transfer branchy-mnist --write
  outlet transfer branchy-bench --quick --dry-run
  outlet transfer --transports shm --sizes 1k,16k,256k,4m --reps 20 --out /tmp/transfer.json`,
    )
    .action(async (modelArg: string | undefined, options: TransferOptions) => {
      await measureTransfer(modelArg ? resolveModelPackage(modelArg, options.modelsDir) : undefined, options);
    });
}

/** Measure the hand-off (see the command's help), print it and write transfer.json (to --out, else into the package). */
export async function measureTransfer(pkg: ModelPackage | undefined, options: Omit<TransferOptions, 'modelsDir'>): Promise<void> {
  // By default this machine's own hand-off model (the local cache, by fingerprint); --write: the package's too.
  const trunk = readTrunkSettings();
  const own = cachedTransferHere(trunk.cacheDir, trunk.threads, trunk.branchThreads);
  const out = options.out ?? own;
  const packageFile = options.write && !options.out && pkg ? join(pkg.dir, TRANSFER_FILE) : undefined;
  if (options.write && !options.out && !pkg) throw new InvalidArgumentError('--write needs a model package or --out');
  const q = options.quick;
  const probe: ProbeOptions = {
    ...options,
    sizes: options.sizes ?? parseSizes(q ? QUICK.sizes : DEFAULT_SIZES),
    reps: options.reps ?? (q ? QUICK.reps : 40),
    warmup: options.warmup ?? (q ? QUICK.warmup : 10),
    notifyReps: options.notifyReps ?? (q ? QUICK.notifyReps : 200),
    log: (l) => console.log(l),
  };
  console.log(
    `transfer: ${probe.transports!.join(' + ')}, ${probe.sizes.length} sizes × ${probe.reps} reps (+${probe.warmup} warm-up rounds; sizes and transports interleaved in random order, ${probe.gapMs} ms apart) on ${options.redisUrl ? maskRedisUrl(options.redisUrl) : 'a private redis-server'}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
  const file = await measureHandoff(probe);
  console.log('');
  for (const line of transferTable(file)) console.log(line);
  const n = file.notify;
  console.log(
    `answer path (decision → claimAnswer → heard by the gateway's subscriber): p50 ${n.p50_ms} ms, mean ${n.mean_ms} ms, p90 ${n.p90_ms} ms over ${n.reps}` +
      (n.trunk_p50_ms !== undefined ? `; the trunk's channel p50 ${n.trunk_p50_ms} ms, p90 ${n.trunk_p90_ms} ms` : ''),
  );
  if (pkg) {
    const t = file.model;
    const names = Object.keys(t.transports ?? {}) as HandoffTransport[];
    featureBytes(pkg.manifest).forEach((b, i) =>
      console.log(
        `${pkg.manifest.name} exit ${i}: feature ${b} B → ` + names.map((tr) => `${tr} hand-off ${handoffMs(t, b, tr).toFixed(3)} ms, trunk pays ${handoffTrunkMs(t, b, tr).toFixed(3)} ms`).join('; '),
      ),
    );
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (${cpus().length} cores)`);
  if (options.dryRun) return;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${compactJson(file)}\n`);
  console.log(out === own ? `stored as this machine's own hand-off model [${basename(own, '.json')}]: ${out}` : `wrote ${out}`);
  if (packageFile) {
    writeFileSync(packageFile, `${compactJson(file)}\n`);
    console.log(`wrote ${packageFile}`);
  }
}

/** Per transport: its fit and, per size, measured p50 / p90, the fit, the trunk's cost and the job pickup. */
export function transferTable(file: TransferFile): string[] {
  const lines: string[] = [];
  const by = file.by_transport ?? { [file.model.transport ?? 'redis']: { fit: file.fit, points: file.points } };
  for (const [name, m] of Object.entries(by)) {
    if (!m) continue;
    const cost = file.model.transports?.[name as HandoffTransport] ?? { transfer: file.model.transfer, trunk: file.model.trunk };
    lines.push(
      `${name}: hand-off ${cost.transfer.fixed_ms.toFixed(4)} ms + ${(cost.transfer.per_byte_ms * 1e6).toFixed(4)} ms/MB (R² ${m.fit.transfer_r2}); ` +
        `trunk pays ${cost.trunk.fixed_ms.toFixed(4)} ms + ${(cost.trunk.per_byte_ms * 1e6).toFixed(4)} ms/MB (R² ${m.fit.trunk_r2})`,
    );
    lines.push(`  ${'bytes'.padStart(9)}  ${'p50 ms'.padStart(8)}  ${'p90 ms'.padStart(8)}  ${'fit ms'.padStart(8)}  ${'err'.padStart(7)}  ${'trunk ms'.padStart(8)}  ${'pickup ms'.padStart(9)}`);
    for (const p of m.points) {
      lines.push(
        `  ${String(p.bytes).padStart(9)}  ${p.p50_ms.toFixed(3).padStart(8)}  ${p.p90_ms.toFixed(3).padStart(8)}  ${p.predicted_ms.toFixed(3).padStart(8)}  ${`${(100 * p.relative_error).toFixed(1)}%`.padStart(7)}  ${p.trunk_p50_ms.toFixed(3).padStart(8)}  ${(p.pickup_p50_ms ?? NaN).toFixed(3).padStart(9)}`,
      );
    }
  }
  return lines;
}
