import { cpus, hostname, totalmem, platform, arch, release } from 'node:os';
import * as ort from 'onnxruntime-node';

export interface MachineDescription {
  hostname: string;
  cpu_model: string;
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
    cpu_model: c[0]?.model ?? 'unknown',
    cores: c.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${arch()} ${release()}`,
    node: process.version,
    onnxruntime: ort.env.versions?.node ?? 'unknown',
  };
}
