import { parentPort, workerData } from 'node:worker_threads';
import { nowMs } from '@outlet/contracts';
import { loadModelPackage } from '@outlet/model-package';
import { ExecutionProvider, resolveExecutionProvider } from './execution-provider';
import { Feature, MultiExitModel } from './multi-exit-model';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** What the thread opens: the packages' pieces on one provider (`auto` resolves here). */
export interface ThreadSetup {
  packageDirs: string[];
  ep: ExecutionProvider | 'auto';
  threads: number;
  pieces: { segments?: boolean; exits?: 'all' | 'early' | 'none'; fused?: boolean };
  /**
   * The thread's nice value (Linux: per thread; onnxruntime's own threads, made after it, inherit
   * it). 19 runs only on CPU time nothing else wants: work behind every other thread of the node.
   */
  niceness?: number;
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

async function main() {
  const setup = workerData as ThreadSetup;
  const port = parentPort!;
  if (setup.niceness !== undefined) {
    try {
      setPriority(0, setup.niceness); // 0: this thread, before onnxruntime makes any of its own
    } catch (err) {
      port.postMessage({ log: `could not set nice ${setup.niceness}: ${(err as Error).message}` });
    }
  }
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
    if (r.withExit) {
      const out = await model.runSegmentWithExit(r.segment, input);
      feature = out.feature;
      probabilities = out.probabilities.slice(); // its own buffer, to transfer
    } else {
      feature = await model.runSegment(r.segment, input);
    }
    const decidedAt = nowMs();
    features.set(r.taskId, feature);
    if (!r.handOff) return { probabilities, decidedAt };
    if (r.handOff.file) {
      writeFileSync(r.handOff.file, new Uint8Array(feature.data.buffer, feature.data.byteOffset, feature.data.byteLength));
      return { probabilities, decidedAt };
    }
    return { probabilities, decidedAt, feature: { data: feature.data.slice(), dims: feature.dims } };
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
