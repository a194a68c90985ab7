import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFingerprint, hardwareView } from '@outlet/contracts';
import { cpuFlags, hardwareFingerprint, isaLevel } from '@outlet/edge-node';
import { describeMachine, machineFingerprint, otherMachineWarning } from '@outlet/profiler';

const XEON = 'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse4_2 avx avx2 avx512f avx512bw\n\nprocessor\t: 1\nflags\t\t: fpu\n';
const EPYC = 'processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse4_2 avx avx2 fma\n';
const SAPPHIRE = 'flags\t\t: avx2 avx512f amx_bf16 amx_tile\n';
const ARM = 'processor\t: 0\nFeatures\t: fp asimd evtstrm crc32\n';

test('the ISA level: the widest vector extension /proc/cpuinfo reports (its first processor)', () => {
  assert.equal(isaLevel(cpuFlags(XEON)), 'avx512');
  assert.equal(isaLevel(cpuFlags(EPYC)), 'avx2');
  assert.equal(isaLevel(cpuFlags(SAPPHIRE)), 'amx');
  assert.equal(isaLevel(cpuFlags(ARM)), 'neon');
  assert.equal(isaLevel(cpuFlags('')), 'none');
});

test('a fingerprint: its id follows every field that changes timings, and only those', () => {
  const base = { trunkEp: 'cpu', trunkThreads: 1, branchThreads: 1, onnxruntime: '1.30.0', cpuModel: 'Intel(R) Xeon(R) Processor', cores: 2, cpuinfo: XEON };
  const a = hardwareFingerprint(base);
  assert.match(a.id, /^[0-9a-f]{12}$/);
  assert.deepEqual({ ...a, id: undefined }, { id: undefined, cpuModel: 'Intel(R) Xeon(R) Processor', isa: 'avx512', cores: 2, trunkEp: 'cpu', trunkThreads: 1, branchThreads: 1, onnxruntime: '1.30.0' });
  assert.equal(hardwareFingerprint(base).id, a.id, 'the same machine, the same id');
  const others = [
    { trunkThreads: 2 },
    { branchThreads: 2 },
    { trunkEp: 'webgpu' },
    { adapter: 'NVIDIA H100' },
    { onnxruntime: '1.31.0' },
    { cpuModel: 'AMD EPYC 7B13', cpuinfo: EPYC },
    { cpuinfo: EPYC },
    { cores: 16 },
  ];
  const ids = new Set([a.id, ...others.map((o) => hardwareFingerprint({ ...base, ...o }).id)]);
  assert.equal(ids.size, others.length + 1, 'each difference gives another id');
  assert.equal(describeFingerprint(a), `Intel(R) Xeon(R) Processor, avx512, 2 cores; trunk cpu 1 thread(s), branch 1 thread(s); onnxruntime 1.30.0 [${a.id}]`);
  assert.deepEqual(hardwareView(a), { id: a.id, cpu_model: 'Intel(R) Xeon(R) Processor', isa: 'avx512', cores: 2, trunk_ep: 'cpu', trunk_threads: 1, branch_threads: 1, onnxruntime: '1.30.0' });
});

test('results measured on other hardware: profiles, predictors and plan tables say which, and their users warn', () => {
  const here = describeMachine();
  assert.equal(otherMachineWarning('the predictor', here, 'cpu', 1), undefined, 'measured here: no warning');
  // Files from before fingerprints lack the ISA: judged by the rest.
  assert.equal(otherMachineWarning('the predictor', { ...here, cpu_isa: undefined }, 'cpu', 1), undefined);
  const epyc = { ...here, cpu_model: 'AMD EPYC 7B13', cpu_isa: 'avx2' };
  const warning = otherMachineWarning('the predictor', epyc, 'cpu', 1) ?? '';
  assert.match(warning, /^warning: the predictor was measured on other hardware: AMD EPYC 7B13, avx2, \d+ cores; trunk cpu 1 thread\(s\)/);
  assert.match(warning, new RegExp(`this machine: ${here.cpu_model.replace(/[()]/g, '\\$&')}`));
  assert.match(otherMachineWarning('the profile', undefined, 'cpu', 1) ?? '', /does not say which machine measured it/);
  // The fingerprint of a described machine is the node's own for the same provider and threads.
  const f = machineFingerprint(here, 'cpu', 2, 1);
  assert.equal(f.id, hardwareFingerprint({ trunkEp: 'cpu', trunkThreads: 2, branchThreads: 1, onnxruntime: here.onnxruntime }).id);
});
