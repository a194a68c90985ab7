import { HardwareFingerprint } from './schema/node-status';

/** One line for logs and tables: CPU, ISA, cores, provider and threads, onnxruntime, id. */
export function describeFingerprint(f: HardwareFingerprint): string {
  const branch = f.branchThreads === undefined ? '' : `, branch ${f.branchThreads} thread(s)`;
  const adapter = f.adapter ? ` (${f.adapter})` : '';
  return `${f.cpuModel}, ${f.isa}, ${f.cores} cores; trunk ${f.trunkEp}${adapter} ${f.trunkThreads} thread(s)${branch}; onnxruntime ${f.onnxruntime} [${f.id}]`;
}
