import { ExecutionProvider } from '@outlet/inference';
import { loadModelPackage } from '@outlet/model-package';
import { QUICK_PROFILE, profilePackage } from '@outlet/profiler';

/**
 * A node's quick self-profile, forked by its trunk worker (NodeProfiles): a process of its own so
 * that its synchronous onnxruntime runs and its load generator never stall the trunk's event loop.
 * Argument: JSON { dir, eps, threads, branchThreads }. Messages to the parent: { progress: [done,
 * total, label] }, then { profile } or { error }.
 */
export interface ProfileChildRequest {
  dir: string;
  eps: ExecutionProvider[];
  threads: number;
  branchThreads: number;
}

async function main() {
  const request = JSON.parse(process.argv[2]) as ProfileChildRequest;
  const profile = await profilePackage(loadModelPackage(request.dir), {
    ...QUICK_PROFILE,
    levels: [...QUICK_PROFILE.levels],
    eps: request.eps,
    threads: request.threads,
    branchThreads: request.branchThreads,
    onProgress: (done, total, label) => process.send!({ progress: [done, total, label] }),
  });
  process.send!({ profile }, () => process.exit(0));
}

main().catch((err) => process.send!({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)));
