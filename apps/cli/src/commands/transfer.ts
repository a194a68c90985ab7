import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { TRANSFER_FILE, featureBytes, handoffMs, handoffTrunkMs } from '@outlet/planner';
import { compactJson } from '../offline/compact-json';
import { ProbeOptions, measureHandoff } from '../offline/handoff-probe';
import { integerIn } from '../offline/option-parsers';
import { defaultModelsDir, resolveModelPackage } from '../offline/model-arg';

const DEFAULT_SIZES = '1k,2k,4k,8k,16k,32k,64k,128k,256k,512k,1m,2m,4m';

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

/** The probe's options, as commander parses them, plus where the result goes. */
interface TransferOptions extends Omit<ProbeOptions, 'log'> {
  out?: string;
  modelsDir: string;
  dryRun?: boolean;
}

export function registerTransfer(program: Command): void {
  program
    .command('transfer')
    .description("measure the trunk → branch hand-off (Redis SET PX + BullMQ job, read by a worker in another process) for feature sizes 1 KB..4 MB; fit fixed + per-byte ms; write transfer.json")
    .argument('[model]', "model package (name or folder): write <package>/transfer.json and show its exits' predicted hand-off")
    .option('--sizes <list>', 'feature sizes in bytes (k = 1024, m = 1024²)', parseSizes, parseSizes(DEFAULT_SIZES))
    .option('--reps <n>', 'timed rounds (one hand-off of every size per round)', integerIn(3, 100_000), 40)
    .option('--warmup <n>', 'untimed rounds over all sizes first', integerIn(0, 10_000), 10)
    .option('--gap-ms <ms>', 'pause before each hand-off, letting the last one settle', integerIn(0, 1000), 3)
    .option('--notify-reps <n>', 'early-exit events timed (PUBLISH → subscriber)', integerIn(10, 100_000), 200)
    .option('--redis-url <url>', 'measure on this Redis instead of a private redis-server')
    .option('--out <file>', 'write here instead of <package>/transfer.json')
    .option('--models-dir <dir>', 'models folder (default: OUTLET_MODELS_DIR or ./models)', defaultModelsDir())
    .option('--dry-run', 'print only')
    .addHelpText(
      'after',
      `
What is measured (the transport the workers use, on a throwaway redis-server on loopback):
  hand-off  from before the trunk's SET <feature> PX <ttl> to a BullMQ Worker in another process
            holding the feature as a Float32Array (subjob added as the trunk worker's BranchHandOff
            does; feature read as the branch worker's ExitHeadRunner does: one MULTI)
  trunk     what the trunk itself pays: the SET round trip + the synchronous part of queue.add()
  notify    an early-exit event, PUBLISH → the trunk's subscriber (the planner's abortMs)
Fit: least squares of the per-size medians, weighted by 1/y² (relative error), to
fixed_ms + per_byte_ms × bytes, for the hand-off and for the trunk cost.

transfer.json is a property of the machine and its Redis, not of the model: it lives in the
model package (the planner reads it there) or where --out says. The planner uses
handoffMs(bytes) = transfer.fixed_ms + transfer.per_byte_ms × bytes (head runnable after the
segment ends), handoffTrunkMs(bytes) likewise from 'trunk', abortMs = notify_ms.

Examples:
  outlet transfer branchy-mnist
  outlet transfer --sizes 1k,16k,256k,4m --reps 20 --out /tmp/transfer.json`,
    )
    .action(async (modelArg: string | undefined, options: TransferOptions) => {
      const pkg = modelArg ? resolveModelPackage(modelArg, options.modelsDir) : undefined;
      const out = options.out ?? (pkg ? join(pkg.dir, TRANSFER_FILE) : undefined);
      console.log(`transfer: ${options.sizes.length} sizes × ${options.reps} reps (+${options.warmup} warm-up rounds; sizes interleaved in random order, ${options.gapMs} ms apart) on ${options.redisUrl ?? 'a private redis-server'}`);
      const file = await measureHandoff({ ...options, log: (l) => console.log(l) });
      const t = file.model;
      console.log('');
      console.log(`hand-off fit: ${t.transfer.fixed_ms.toFixed(4)} ms + ${(t.transfer.per_byte_ms * 1e6).toFixed(4)} ms/MB (×bytes/1e6)   R² ${file.fit.transfer_r2}`);
      console.log(`trunk cost:   ${t.trunk.fixed_ms.toFixed(4)} ms + ${(t.trunk.per_byte_ms * 1e6).toFixed(4)} ms/MB   R² ${file.fit.trunk_r2}`);
      console.log(`notify (early-exit event): p50 ${file.notify.p50_ms} ms, p90 ${file.notify.p90_ms} ms over ${file.notify.reps}`);
      for (const p of file.points) {
        console.log(`  ${String(p.bytes).padStart(9)} B  measured ${p.p50_ms.toFixed(3)}  fit ${p.predicted_ms.toFixed(3)}  (${(100 * p.relative_error).toFixed(1)}%)`);
      }
      if (pkg) {
        featureBytes(pkg.manifest).forEach((b, i) =>
          console.log(`${pkg.manifest.name} exit ${i}: feature ${b} B → hand-off ${handoffMs(t, b).toFixed(3)} ms, trunk pays ${handoffTrunkMs(t, b).toFixed(3)} ms`),
        );
      }
      if (options.dryRun || !out) {
        if (!out) console.log(compactJson(file));
        return;
      }
      writeFileSync(out, `${compactJson(file)}\n`);
      console.log(`wrote ${out}`);
    });
}
