import * as ort from 'onnxruntime-node';

/** Execution providers Outlet knows, in the order `auto` tries them. */
export const AUTO_EP_ORDER = ['cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProvider = (typeof AUTO_EP_ORDER)[number];

export function sessionOptions(ep: ExecutionProvider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    // An explicit budget: trunk and branch share the node's cores and must not oversubscribe them.
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    // No CPU memory arena: each session's arena keeps its peak working memory for good (~70 MB over
    // branchy-bench's 8 trunk sessions); without it the trunk's CPU time per task is the same
    // (scripts/ort-memory.js).
    enableCpuMemArena: false,
  };
}

/**
 * Open a session on the requested provider; `auto` takes the first of cuda, webgpu, cpu that
 * opens `probeFile` and runs, and `onChoice` hears which (and why the others failed).
 */
export async function resolveExecutionProvider(
  requested: ExecutionProvider | 'auto',
  probeFile: string,
  threads: number,
  onChoice: (message: string) => void = () => undefined,
): Promise<ExecutionProvider> {
  if (requested !== 'auto') {
    try {
      const session = await ort.InferenceSession.create(probeFile, sessionOptions(requested, threads));
      await session.release();
    } catch (err) {
      throw new Error(`execution provider '${requested}' does not work here: ${(err as Error).message.split('\n')[0]}`);
    }
    onChoice(`execution provider '${requested}' (requested)`);
    return requested;
  }
  const failures: string[] = [];
  // The providers that are missing log errors from native code; their failures are reported below.
  ort.env.logLevel = 'fatal';
  for (const ep of AUTO_EP_ORDER) {
    try {
      // Probing expects failures: keep onnxruntime's own error log quiet (fatal only).
      const session = await ort.InferenceSession.create(probeFile, { ...sessionOptions(ep, threads), logSeverityLevel: 4 });
      await session.release();
      onChoice(`execution provider '${ep}' chosen by auto${failures.length ? ` (${failures.join('; ')})` : ''}`);
      return ep;
    } catch (err) {
      failures.push(`${ep}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no execution provider works: ${failures.join('; ')}`);
}

/** The onnxruntime-node version in use (part of a node's hardware fingerprint). */
export function onnxruntimeVersion(): string {
  return ort.env.versions?.node ?? 'unknown';
}
