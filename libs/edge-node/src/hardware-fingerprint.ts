import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { HardwareFingerprint } from '@outlet/contracts';

/** Vector extensions by width, widest first, as /proc/cpuinfo names them (flags on x86, Features on Arm). */
const ISA_LEVELS: { isa: string; flag: string }[] = [
  { isa: 'amx', flag: 'amx_tile' },
  { isa: 'avx512', flag: 'avx512f' },
  { isa: 'avx2', flag: 'avx2' },
  { isa: 'avx', flag: 'avx' },
  { isa: 'sse4', flag: 'sse4_2' },
  { isa: 'neon', flag: 'asimd' },
];

/** The CPU's feature flags from /proc/cpuinfo's first processor (empty where there is none). */
export function cpuFlags(cpuinfo?: string): Set<string> {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return new Set();
    }
  }
  const line = text.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  return new Set(line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : []);
}

/** The widest vector extension among the flags. */
export function isaLevel(flags: Set<string>): string {
  return ISA_LEVELS.find((l) => flags.has(l.flag))?.isa ?? 'none';
}

export interface FingerprintInput {
  trunkEp: string;
  adapter?: string;
  trunkThreads: number;
  branchThreads?: number;
  onnxruntime: string;
  /** Defaults: this machine's. */
  cpuModel?: string;
  cores?: number;
  /** The ISA level itself (a described machine's); otherwise read from cpuinfo. */
  isa?: string;
  cpuinfo?: string;
}

/** This node's fingerprint: the CPU as the OS reports it, the given provider and threads. */
export function hardwareFingerprint(input: FingerprintInput): HardwareFingerprint {
  const c = cpus();
  const fields: Omit<HardwareFingerprint, 'id'> = {
    cpuModel: (input.cpuModel ?? c[0]?.model ?? 'unknown').trim(),
    isa: input.isa ?? isaLevel(cpuFlags(input.cpuinfo)),
    cores: input.cores ?? c.length,
    trunkEp: input.trunkEp,
    ...(input.adapter ? { adapter: input.adapter } : {}),
    trunkThreads: input.trunkThreads,
    ...(input.branchThreads !== undefined ? { branchThreads: input.branchThreads } : {}),
    onnxruntime: input.onnxruntime,
  };
  return { id: fingerprintId(fields), ...fields };
}

/** 12 hex digits of a SHA-256 over the fields in a fixed order. */
export function fingerprintId(f: Omit<HardwareFingerprint, 'id'>): string {
  const key = [f.cpuModel, f.isa, f.cores, f.trunkEp, f.adapter ?? '', f.trunkThreads, f.branchThreads ?? '', f.onnxruntime].join('|');
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}
