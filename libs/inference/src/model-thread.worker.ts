import { parentPort, workerData } from 'node:worker_threads';
import { nowMs } from '@outlet/contracts';
import { loadModelPackage } from '@outlet/model-package';
import { ExecutionProvider, resolveExecutionProvider } from './execution-provider';
import { Feature, MultiExitModel } from './multi-exit-model';
import { readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { spawnSync } from 'node:child_process';

/** What the thread opens: the packages' pieces on one provider (`auto` resolves here). */
export interface ThreadSetup {
  packageDirs: string[];
  ep: ExecutionProvider | 'auto';
  threads: number;
  pieces: { segments?: boolean; exits?: 'all' | 'early' | 'none'; fused?: boolean };
  /**
   * Run only on CPU time nothing else on the machine wants: the thread (Linux: scheduling is per
   * thread, and onnxruntime's own threads, made after it, inherit it) goes to SCHED_IDLE, which
   * any other thread pre-empts the moment it wakes, or, where that cannot be set, to nice 19.
   */
  idle?: boolean;
}

export type ThreadRequest =
  | { id: number; op: 'segment'; model: string; taskId: string; segment: number; input?: Feature; withExit: boolean; handOff?: { file?: string } }
  | { id: number; op: 'exit'; model: string; exitIndex: number; input: Feature }
  | { id: number; op: 'end'; taskId: string };

export interface ThreadReply {
  id: number;
  error?: string;
  probabilities?: Float32Array;
  feature?: Feature;
  decidedAt?: number;
  ranMs?: number;
}

/**
 * This thread to SCHED_IDLE (util-linux `chrt`, on its thread id from /proc/thread-self), else
 * nice 19; says which. Nice alone is weaker: a waking nice-0 thread may wait out the nice-19
 * thread's slice, where a SCHED_IDLE one is pre-empted at once.
 */
function idleThisThread(): string {
  try {
    setPriority(0, 19); // 0: this thread
  } catch (err) {
    return `could not lower this thread's priority: ${(err as Error).message}`;
  }
  let tid: string | undefined;
  try {
    tid = /task\/(\d+)$/.exec(readlinkSync('/proc/thread-self', { encoding: 'utf8' }))?.[1];
  } catch {
    // not Linux: nice alone
  }
  const chrt = tid ? spawnSync('chrt', ['--idle', '--pid', '0', tid], { encoding: 'utf8' }) : undefined;
  if (chrt?.status === 0) return `thread ${tid}: SCHED_IDLE (runs only on CPU time nothing else wants)`;
  return `thread ${tid ?? '?'}: nice 19 (SCHED_IDLE not set: ${chrt?.error?.message ?? chrt?.stderr?.trim() ?? 'no thread id'})`;
}

async function main() {
  const setup = workerData as ThreadSetup;
  const port = parentPort!;
  if (setup.idle) port.postMessage({ log: idleThisThread() });
  const packages = setup.packageDirs.map((dir) => loadModelPackage(dir));
  const first = packages[0];
  const ep = await resolveExecutionProvider(setup.ep, `${first.dir}/${first.manifest.segments[0].file}`, setup.threads, (log) => port.postMessage({ log }));
  const models = new Map<string, MultiExitModel>();
  for (const pkg of packages) models.set(pkg.manifest.name, await MultiExitModel.load(pkg, ep, setup.threads, setup.pieces));
  /** Each task's latest feature, between its segments. */
  const features = new Map<string, Feature>();

  const handle = async (r: ThreadRequest): Promise<Omit<ThreadReply, 'id'>> => {
    if (r.op === 'end') {
      features.delete(r.taskId);
      return {};
    }
    const model = models.get(r.model);
    if (!model) throw new Error(`model '${r.model}' is not loaded in this thread`);
    if (r.op === 'exit') {
      const started = nowMs();
      const probabilities = (await model.runExit(r.exitIndex, r.input)).slice();
      const decidedAt = nowMs();
      return { probabilities, decidedAt, ranMs: decidedAt - started };
    }
    const input = r.input ?? features.get(r.taskId);
    if (!input) throw new Error(`task ${r.taskId} has no feature for segment ${r.segment}`);
    let feature: Feature;
    let probabilities: Float32Array | undefined;
    const started = nowMs();
    if (r.withExit) {
      const out = await model.runSegmentWithExit(r.segment, input);
      feature = out.feature;
      probabilities = out.probabilities.slice(); // its own buffer, to transfer
    } else {
      feature = await model.runSegment(r.segment, input);
    }
    const decidedAt = nowMs();
    const ranMs = decidedAt - started;
    features.set(r.taskId, feature);
    if (!r.handOff) return { probabilities, decidedAt, ranMs };
    if (r.handOff.file) {
      writeFileSync(r.handOff.file, new Uint8Array(feature.data.buffer, feature.data.byteOffset, feature.data.byteLength));
      return { probabilities, decidedAt, ranMs };
    }
    return { probabilities, decidedAt, ranMs, feature: { data: feature.data.slice(), dims: feature.dims } };
  };

  port.on('message', (r: ThreadRequest) => {
    handle(r).then(
      (reply) => {
        if (r.op === 'end') return;
        const transfer = [reply.probabilities?.buffer, reply.feature?.data.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
        port.postMessage({ id: r.id, ...reply }, transfer);
      },
      (err: Error) => port.postMessage({ id: r.id, error: err.message }),
    );
  });
  port.postMessage({ ready: ep });
}

main().catch((err: Error) => parentPort!.postMessage({ failed: err.message }));
