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
