import { readFileSync, readdirSync } from 'node:fs';
import { cpus, hostname, totalmem, platform, arch, release } from 'node:os';
import * as ort from 'onnxruntime-node';
import { HardwareFingerprint, describeFingerprint } from '@outlet/contracts';
import { cpuFlags, hardwareFingerprint, isaLevel } from '@outlet/edge-node';

export interface MachineDescription {
  hostname: string;
  cpu_model: string;
  /** The widest vector extension the CPU reports (absent in files made before fingerprints). */
  cpu_isa?: string;
  cores: number;
  memory_gib: number;
  platform: string;
  node: string;
  onnxruntime: string;
}

export function describeMachine(): MachineDescription {
  const c = cpus();
  return {
    hostname: hostname(),
    cpu_model: c[0]?.model?.trim() ?? 'unknown',
    cpu_isa: isaLevel(cpuFlags()),
    cores: c.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${arch()} ${release()}`,
    node: process.version,
    onnxruntime: ort.env.versions?.node ?? 'unknown',
  };
}

/**
 * KB of level-2 cache each core has (Linux sysfs; a cache shared by several cores is divided among
 * them), undefined where the system does not say.
 */
export function l2KbPerCore(sysfs = '/sys/devices/system/cpu/cpu0/cache'): number | undefined {
  const l2 = dataCache(2, sysfs);
  return l2 && l2.kb / l2.sharers;
}

/** KB of level-3 cache the first core sees, whole (shared with however many cores), undefined where the system does not say. */
export function l3Kb(sysfs = '/sys/devices/system/cpu/cpu0/cache'): number | undefined {
  return dataCache(3, sysfs)?.kb;
}

/** A data (or unified) cache of one level as Linux sysfs describes it: its KB and how many cores share it. */
function dataCache(level: number, sysfs: string): { kb: number; sharers: number } | undefined {
  try {
    for (const dir of readdirSync(sysfs).filter((d) => d.startsWith('index'))) {
      const read = (f: string) => readFileSync(`${sysfs}/${dir}/${f}`, 'utf8').trim();
      if (read('level') !== String(level) || read('type') === 'Instruction') continue;
      const m = /^(\d+)([KMG]?)$/.exec(read('size'));
      if (!m) return undefined;
      const kb = Number(m[1]) * { '': 1 / 1024, K: 1, M: 1024, G: 1024 ** 2 }[m[2] as '' | 'K' | 'M' | 'G'];
      const sharers = read('shared_cpu_list').split(',').reduce((n, r) => {
        const [a, b] = r.split('-').map(Number);
        return n + (b === undefined ? 1 : b - a + 1);
      }, 0);
      return { kb, sharers: Math.max(1, sharers) };
    }
  } catch {
    // no sysfs (macOS, Windows, a container without it)
  }
  return undefined;
}

/** The fingerprint of a described machine running a provider with some threads (what a profile, predictor or plan table was measured on). */
export function machineFingerprint(machine: MachineDescription, ep: string, trunkThreads: number, branchThreads?: number): HardwareFingerprint {
  return hardwareFingerprint({
    cpuModel: machine.cpu_model,
    cores: machine.cores,
    isa: machine.cpu_isa ?? 'unknown',
    trunkEp: ep,
    trunkThreads,
    branchThreads,
    onnxruntime: machine.onnxruntime,
  });
}

/**
 * A warning when results measured on `measured` are used on this machine with other hardware
 * (CPU model, ISA, cores or onnxruntime), else undefined.
 */
export function otherMachineWarning(what: string, measured: MachineDescription | undefined, ep: string, threads: number): string | undefined {
  const here = machineFingerprint(describeMachine(), ep, threads);
  if (!measured) return `warning: ${what} does not say which machine measured it; this machine: ${describeFingerprint(here)}`;
  const there = machineFingerprint({ ...measured, cpu_isa: measured.cpu_isa ?? here.isa }, ep, threads);
  if (there.id === here.id) return undefined;
  const isa = measured.cpu_isa ? '' : ' (ISA not recorded)';
  return `warning: ${what} was measured on other hardware: ${describeFingerprint(there)}${isa}; this machine: ${describeFingerprint(here)}. Its timings may mislead here.`;
}
