import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExecutionProvider, sessionOptions } from '@outlet/inference';
import { analyzeModel, nodeAttributes, numel, onnx, readOnnxModel } from '@outlet/onnx-cost';

/**
 * The kernels onnxruntime actually runs: the graph a session executes after its optimizations
 * (graph optimization level 'all'; onnxruntime writes it through the session option
 * optimizedModelFilePath), read back and costed node by node. Its nodes are the fused kernels —
 * Conv + BatchNormalization + Relu as one com.microsoft FusedConv or one blocked (NCHWc) Conv with
 * its activation, a residual Add folded in as the Conv's sum input, Gemm + activation as FusedGemm,
 * the NCHWc reorders around blocked stretches — rather than the ops of the exported file.
 */

/** Kernel classes, each with its own latency model. */
export const KERNEL_CLASSES = ['conv', 'dwconv', 'pool', 'gemm', 'eltwise', 'memory', 'free'] as const;
export type KernelClass = (typeof KERNEL_CLASSES)[number];

/**
 * A kernel's configuration features (what the per-class forests see, with the run's `threads` and
 * `cpu_util` appended; see KERNEL_FEATURES):
 * - in_c, in_h, in_w: input channels and spatial size (a 2-D input [m, k]: in_c = k, in_h = m)
 * - out_c, out_h, out_w: the same of the output (2-D [m, n]: out_c = n)
 * - k, stride, dilation, groups: window attributes (1 where the op has none)
 * - mflop, mbytes: the cost model's FLOPs (MAC = 2) and bytes moved (@outlet/onnx-cost), and
 *   log2 of both; weight_kb: KB of weights the kernel reads
 * - act: 1 where an activation is fused into the kernel; sum: 1 where a residual sum is
 */
export const CONFIG_FEATURES = [
  'in_c', 'in_h', 'in_w', 'out_c', 'out_h', 'out_w', 'k', 'stride', 'dilation', 'groups',
  'mflop', 'mbytes', 'log2_mflop', 'log2_mbytes', 'weight_kb', 'act', 'sum',
] as const;
export const KERNEL_FEATURES = [...CONFIG_FEATURES, 'threads', 'cpu_util'] as const;
export type KernelFeature = (typeof KERNEL_FEATURES)[number];

export interface Kernel {
  /** Node name in the optimized graph (onnxruntime's profiler reports `<name>_kernel_time`). */
  name: string;
  opType: string;
  domain: string;
  kclass: KernelClass;
  /** e.g. 'Conv+Relu' for a blocked conv with a fused activation. */
  label: string;
  inputShapes: (number[] | undefined)[];
  outputShapes: (number[] | undefined)[];
  /** Indexes of the outputs that are the graph's outputs (what a call copies back to the caller). */
  graphOutputs?: number[];
  config: Record<(typeof CONFIG_FEATURES)[number], number>;
}

const POOL_OPS = new Set(['MaxPool', 'AveragePool', 'GlobalMaxPool', 'GlobalAveragePool', 'LpPool', 'GlobalLpPool']);
const GEMM_OPS = new Set(['Gemm', 'MatMul', 'FusedGemm', 'FusedMatMul']);
const CONV_OPS = new Set(['Conv', 'FusedConv']);

function kernelClass(opType: string, category: string, groups: number): KernelClass {
  if (CONV_OPS.has(opType)) return groups > 1 ? 'dwconv' : 'conv';
  if (POOL_OPS.has(opType)) return 'pool';
  if (GEMM_OPS.has(opType)) return 'gemm';
  if (category === 'memory') return 'memory';
  if (category === 'free') return 'free';
  return 'eltwise';
}

/** Domain of the NHWC kernels onnxruntime's layout transformation writes (the WebGPU provider). */
const NHWC_DOMAIN = 'com.ms.internal.nhwc';

function dims(shape: number[] | undefined, nhwc = false): { c: number; h: number; w: number } {
  if (!shape || shape.length === 0) return { c: 1, h: 1, w: 1 };
  if (nhwc && shape.length >= 4) return { c: shape[shape.length - 1], h: shape[1], w: shape.slice(2, -1).reduce((a, b) => a * b, 1) };
  if (shape.length >= 4) return { c: shape[1], h: shape[2], w: shape.slice(3).reduce((a, b) => a * b, 1) };
  if (shape.length === 3) return { c: shape[2], h: shape[1], w: 1 };
  if (shape.length === 2) return { c: shape[1], h: shape[0], w: 1 };
  return { c: shape[0], h: 1, w: 1 };
}

/** The kernels of a graph, in execution order (Constant nodes left out), with their features. */
export function listKernels(model: onnx.IModelProto): Kernel[] {
  const cost = analyzeModel(model);
  if (cost.unresolved.length) {
    throw new Error(`cannot cost every kernel: ${cost.unresolved.map((u) => `${u.node} (${u.opType}): ${u.problem}`).join('; ')}`);
  }
  const nodes = model.graph?.node ?? [];
  const graphOutputs = new Set((model.graph?.output ?? []).map((o) => o.name ?? ''));
  const kernels: Kernel[] = [];
  cost.nodes.forEach((n, i) => {
    const node = nodes[i];
    if (n.opType === 'Constant') return;
    const attrs = nodeAttributes(node);
    const ints = (k: string) => (Array.isArray(attrs.get(k)) ? (attrs.get(k) as number[]) : undefined);
    const groups = typeof attrs.get('group') === 'number' ? (attrs.get('group') as number) : 1;
    const kernelShape = ints('kernel_shape') ?? (CONV_OPS.has(n.opType) ? n.inputShapes[1]?.slice(2) : undefined);
    const activation = typeof attrs.get('activation') === 'string' ? (attrs.get('activation') as string) : '';
    const hasSum = CONV_OPS.has(n.opType) && (node.input?.[3] ?? '') !== '';
    const kclass = kernelClass(n.opType, n.category, groups);
    const nhwc = node.domain === NHWC_DOMAIN;
    const input = dims(n.inputShapes[0], nhwc);
    const output = dims(n.outputShapes[0], nhwc);
    const mflop = n.flops / 1e6;
    const mbytes = n.bytes / 1e6;
    const results = (node.output ?? []).map((name, j) => (graphOutputs.has(name) ? j : -1)).filter((j) => j >= 0);
    kernels.push({
      name: node.name || `${n.opType}_${i}`,
      opType: n.opType,
      domain: node.domain ?? '',
      kclass,
      label: `${n.opType}${activation ? `+${activation}` : ''}${hasSum ? '+Sum' : ''}`,
      inputShapes: n.inputShapes,
      outputShapes: n.outputShapes,
      ...(results.length && { graphOutputs: results }),
      config: {
        in_c: input.c,
        in_h: input.h,
        in_w: input.w,
        out_c: output.c,
        out_h: output.h,
        out_w: output.w,
        k: kernelShape?.[0] ?? 1,
        stride: ints('strides')?.[0] ?? 1,
        dilation: ints('dilations')?.[0] ?? 1,
        groups,
        mflop,
        mbytes,
        log2_mflop: Math.log2(mflop + 1e-6),
        log2_mbytes: Math.log2(mbytes + 1e-6),
        weight_kb: (n.params * 4) / 1024,
        act: activation ? 1 : 0,
        sum: hasSum ? 1 : 0,
      },
    });
  });
  return kernels;
}

/** The kernel feature vector (KERNEL_FEATURES order) of a kernel run with `threads` at `cpuUtil`. */
export function kernelFeatureVector(kernel: Kernel, threads: number, cpuUtil: number): number[] {
  return [...CONFIG_FEATURES.map((f) => kernel.config[f]), threads, cpuUtil];
}

/**
 * The graph onnxruntime executes for `source` on `ep` with `threads` intra-op threads, after its
 * optimizations: written by onnxruntime to a temporary file, read back, the file removed.
 */
export async function optimizedModel(source: string | Uint8Array, ep: ExecutionProvider = 'cpu', threads = 1): Promise<onnx.IModelProto> {
  const dir = mkdtempSync(join(tmpdir(), 'outlet-optimized-'));
  const path = join(dir, 'optimized.onnx');
  try {
    const options = { ...sessionOptions(ep, threads), optimizedModelFilePath: path };
    const session = typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options);
    await session.release();
    return readOnnxModel(readFileSync(path));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The kernels onnxruntime runs for a model file or its bytes. */
export async function runtimeKernels(source: string | Uint8Array, ep: ExecutionProvider = 'cpu', threads = 1): Promise<Kernel[]> {
  return listKernels(await optimizedModel(source, ep, threads));
}

/** Elements of a shape, 0 when unknown. */
export function elements(shape: number[] | undefined): number {
  return shape ? numel(shape) : 0;
}
