/**
 * What a node's timings depend on. Profiles, predictors and plan tables are measured on one of
 * these, and say which; a node uses the ones measured on its own.
 */
export interface HardwareFingerprint {
  /** 12 hex digits of a hash of every field below: the key results are stored under. */
  id: string;
  cpuModel: string;
  /** The widest vector extension the CPU reports: amx, avx512, avx2, avx, sse4, neon or none. */
  isa: string;
  /** Logical cores the node's processes may use. */
  cores: number;
  /** The trunk's execution provider (resolved: cpu, webgpu, …). */
  trunkEp: string;
  /** The GPU adapter the trunk's provider runs on, where it has one and names it. */
  adapter?: string;
  trunkThreads: number;
  /** The branch workers' threads (OUTLET_BRANCH_THREADS; absent in fingerprints made before it was part of them). */
  branchThreads?: number;
  onnxruntime: string;
}

/** One line for logs and tables: CPU, ISA, cores, provider and threads, onnxruntime, id. */
export function describeFingerprint(f: HardwareFingerprint): string {
  const branch = f.branchThreads === undefined ? '' : `, branch ${f.branchThreads} thread(s)`;
  const adapter = f.adapter ? ` (${f.adapter})` : '';
  return `${f.cpuModel}, ${f.isa}, ${f.cores} cores; trunk ${f.trunkEp}${adapter} ${f.trunkThreads} thread(s)${branch}; onnxruntime ${f.onnxruntime} [${f.id}]`;
}
