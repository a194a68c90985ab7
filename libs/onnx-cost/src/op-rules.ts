import { AttributeValue, DataType, elementSize, onnx, tensorDims, tensorValues } from './onnx-format';

/**
 * Shape inference and cost rules, one per ONNX operator type.
 *
 * FLOP convention: one multiply-accumulate (MAC) counts as 2 FLOPs. (The patent's convolution
 * formula W×H×Cin×Cout×kw×kh counts MACs; multiply it by 2 to compare.) A bias add counts one
 * FLOP per output element; comparisons (max pooling, Relu) count one FLOP each; transcendental
 * functions (exp, tanh, sigmoid, erf) count a nominal 4 FLOPs per element. These are cost
 * features for a latency model, not exact instruction counts.
 *
 * Bytes moved: every input tensor (weights included) read once and every output written once, at
 * its element size. Free ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Shape, Constant)
 * only rewrite metadata in onnxruntime and move 0 bytes; copying ops (Transpose, Concat, Pad,
 * Gather, Slice, Cast...) move bytes but do 0 FLOPs.
 */

export type OpCategory =
  | 'conv'
  | 'fc'
  | 'pool'
  | 'activation'
  | 'normalization'
  | 'elementwise'
  | 'softmax'
  | 'reduce'
  | 'resize'
  | 'memory'
  | 'free';

export const OP_CATEGORIES: OpCategory[] = [
  'conv', 'fc', 'pool', 'activation', 'normalization', 'elementwise', 'softmax', 'reduce', 'resize', 'memory', 'free',
];

/** What inference knows of a tensor: its shape, its values when small and constant, its element size. */
export interface TensorInfo {
  shape?: number[];
  value?: number[];
  elemBytes: number;
  /** True for initializers (weights): their elements count as parameters. */
  initializer?: boolean;
}

export interface OpContext {
  node: onnx.INodeProto;
  attrs: Map<string, AttributeValue>;
  /** One per node input; undefined for an omitted optional input (empty name). */
  inputs: (TensorInfo | undefined)[];
  /** The default opset version of the model (for operators whose inputs moved between versions). */
  opset: number;
}

export interface OpResult {
  outputs: TensorInfo[];
  flops: number;
  category: OpCategory;
  /** Bytes moved; when omitted, inputs read once plus outputs written once (0 for 'free'). */
  bytes?: number;
}

export class ShapeError extends Error {}

export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(t: TensorInfo | undefined): number {
  return t?.shape ? numel(t.shape) * t.elemBytes : 0;
}

/** Numpy-style broadcast of several shapes. */
export function broadcastShapes(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new ShapeError(`shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

function need(ctx: OpContext, i: number): number[] {
  const t = ctx.inputs[i];
  if (!t?.shape) throw new ShapeError(`${ctx.node.opType}: shape of input ${i} ('${ctx.node.input?.[i] ?? ''}') is unknown`);
  return t.shape;
}

function needValue(ctx: OpContext, i: number, what: string): number[] {
  const t = ctx.inputs[i];
  if (!t?.value) throw new ShapeError(`${ctx.node.opType}: ${what} (input ${i}) is not a constant`);
  return t.value;
}

function intAttr(ctx: OpContext, name: string, def: number): number {
  const v = ctx.attrs.get(name);
  return typeof v === 'number' ? v : def;
}

function intsAttr(ctx: OpContext, name: string): number[] | undefined {
  const v = ctx.attrs.get(name);
  return Array.isArray(v) ? (v as number[]) : undefined;
}

function strAttr(ctx: OpContext, name: string, def: string): string {
  const v = ctx.attrs.get(name);
  return typeof v === 'string' ? v : def;
}

function like(t: TensorInfo, shape: number[], value?: number[]): TensorInfo {
  return { shape, elemBytes: t.elemBytes, value };
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * Output size and padding of one spatial axis of a convolution or pooling window, following the
 * ONNX spec: explicit pads, or auto_pad SAME_UPPER/SAME_LOWER (output = ceil(in/stride)) or VALID.
 */
export function windowOutput(
  input: number, kernel: number, stride: number, dilation: number,
  padBegin: number, padEnd: number, autoPad: string, ceilMode = false,
): number {
  const effective = (kernel - 1) * dilation + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  if (autoPad === 'VALID') return Math.floor((input - effective) / stride) + 1;
  const span = input + padBegin + padEnd - effective;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // With ceil_mode the last window must start inside the input or the begin padding.
  if (ceilMode && (out - 1) * stride >= input + padBegin) out -= 1;
  return out;
}

interface WindowSpec {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
}

function windowSpec(ctx: OpContext, spatial: number, kernel: number[]): WindowSpec {
  const strides = intsAttr(ctx, 'strides') ?? new Array(spatial).fill(1);
  const dilations = intsAttr(ctx, 'dilations') ?? new Array(spatial).fill(1);
  const pads = intsAttr(ctx, 'pads') ?? new Array(spatial * 2).fill(0);
  const autoPad = strAttr(ctx, 'auto_pad', 'NOTSET');
  if (kernel.length !== spatial) throw new ShapeError(`${ctx.node.opType}: kernel rank ${kernel.length} does not match ${spatial} spatial axes`);
  return { kernel, strides, dilations, pads, autoPad };
}

function windowOutputs(inSpatial: number[], w: WindowSpec, ceilMode = false): number[] {
  const n = inSpatial.length;
  return inSpatial.map((d, i) =>
    windowOutput(d, w.kernel[i], w.strides[i], w.dilations[i], w.pads[i], w.pads[i + n], w.autoPad, ceilMode),
  );
}

function conv(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const w = need(ctx, 1);
  const group = intAttr(ctx, 'group', 1);
  const spatial = x.length - 2;
  const kernel = intsAttr(ctx, 'kernel_shape') ?? w.slice(2);
  const spec = windowSpec(ctx, spatial, kernel);
  const [n, c] = x;
  const m = w[0];
  if (w[1] * group !== c) throw new ShapeError(`Conv: weight [${w.join(',')}] with group ${group} does not take ${c} input channels`);
  const outSpatial = windowOutputs(x.slice(2), spec);
  const out = [n, m, ...outSpatial];
  const outElems = numel(out);
  // MACs: every output element sums (Cin/group)·kh·kw products — the patent's W·H·Cin·Cout·kw·kh.
  const macs = outElems * (c / group) * numel(kernel);
  const hasBias = ctx.inputs[2]?.shape !== undefined;
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 2 * macs + (hasBias ? outElems : 0), category: 'conv' };
}

function convTranspose(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const w = need(ctx, 1);
  const group = intAttr(ctx, 'group', 1);
  const spatial = x.length - 2;
  const kernel = intsAttr(ctx, 'kernel_shape') ?? w.slice(2);
  const strides = intsAttr(ctx, 'strides') ?? new Array(spatial).fill(1);
  const dilations = intsAttr(ctx, 'dilations') ?? new Array(spatial).fill(1);
  const pads = intsAttr(ctx, 'pads') ?? new Array(spatial * 2).fill(0);
  const outPad = intsAttr(ctx, 'output_padding') ?? new Array(spatial).fill(0);
  const explicit = intsAttr(ctx, 'output_shape');
  const m = w[1] * group;
  const outSpatial = explicit
    ? explicit.slice(-spatial)
    : x.slice(2).map((d, i) => strides[i] * (d - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial]);
  const out = [x[0], m, ...outSpatial];
  // Every input element is multiplied into (Cout/group)·kh·kw outputs.
  const macs = numel(x) * (m / group) * numel(kernel);
  const hasBias = ctx.inputs[2]?.shape !== undefined;
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 2 * macs + (hasBias ? numel(out) : 0), category: 'conv' };
}

function pool(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const kernel = intsAttr(ctx, 'kernel_shape');
  if (!kernel) throw new ShapeError(`${ctx.node.opType}: kernel_shape is missing`);
  const spec = windowSpec(ctx, x.length - 2, kernel);
  const out = [x[0], x[1], ...windowOutputs(x.slice(2), spec, intAttr(ctx, 'ceil_mode', 0) === 1)];
  // One FLOP per window element per output element (compare for max, add for average).
  const flops = numel(out) * numel(kernel);
  const outputs = [like(ctx.inputs[0]!, out)];
  if ((ctx.node.output?.length ?? 0) > 1) outputs.push({ shape: out, elemBytes: 8 });
  return { outputs, flops, category: 'pool' };
}

function globalPool(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const out = [x[0], x[1], ...x.slice(2).map(() => 1)];
  return { outputs: [like(ctx.inputs[0]!, out)], flops: numel(x), category: 'pool' };
}

function gemm(ctx: OpContext): OpResult {
  let a = need(ctx, 0);
  let b = need(ctx, 1);
  if (a.length !== 2 || b.length !== 2) throw new ShapeError(`Gemm: inputs must be 2-D, got [${a}] and [${b}]`);
  if (intAttr(ctx, 'transA', 0)) a = [a[1], a[0]];
  if (intAttr(ctx, 'transB', 0)) b = [b[1], b[0]];
  const [m, k] = a;
  const n = b[1];
  if (b[0] !== k) throw new ShapeError(`Gemm: inner dimensions ${k} and ${b[0]} differ`);
  const hasC = ctx.inputs[2]?.shape !== undefined;
  // Fully connected: Fin×Fout MACs per output row, plus the bias add.
  return { outputs: [like(ctx.inputs[0]!, [m, n])], flops: 2 * m * k * n + (hasC ? m * n : 0), category: 'fc' };
}

function matmul(ctx: OpContext): OpResult {
  const a0 = need(ctx, 0);
  const b0 = need(ctx, 1);
  const a = a0.length === 1 ? [1, a0[0]] : a0;
  const b = b0.length === 1 ? [b0[0], 1] : b0;
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  if (k !== k2) throw new ShapeError(`MatMul: inner dimensions ${k} and ${k2} differ`);
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  const out = [...batch];
  if (a0.length > 1) out.push(m);
  if (b0.length > 1) out.push(n);
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 2 * numel(batch) * m * k * n, category: 'fc' };
}

/** Unary element-wise operators and their nominal FLOPs per element. */
export const UNARY_FLOPS: Record<string, number> = {
  Relu: 1, LeakyRelu: 2, PRelu: 2, ThresholdedRelu: 1, Elu: 3, Selu: 3, Celu: 3, Clip: 2,
  Sigmoid: 4, HardSigmoid: 3, HardSwish: 4, Tanh: 4, Softplus: 4, Softsign: 3, Gelu: 8, Mish: 8,
  Exp: 4, Log: 4, Erf: 4, Sin: 4, Cos: 4, Sqrt: 1, Reciprocal: 1, Neg: 1, Abs: 1, Floor: 1,
  Ceil: 1, Round: 1, Sign: 1, Not: 1, IsNaN: 1, IsInf: 1,
};

function unary(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  let out = x;
  if (ctx.node.opType === 'PRelu') out = broadcastShapes(x, need(ctx, 1));
  return { outputs: [like(ctx.inputs[0]!, out)], flops: numel(out) * UNARY_FLOPS[ctx.node.opType ?? ''], category: 'activation' };
}

const BINARY_OPS = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'BitShift'];
const COMPARE_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

function arithmetic(op: string, a: number, b: number): number {
  switch (op) {
    case 'Add': case 'Sum': return a + b;
    case 'Sub': return a - b;
    case 'Mul': return a * b;
    case 'Div': return Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b;
    case 'Max': return Math.max(a, b);
    case 'Min': return Math.min(a, b);
    default: return NaN;
  }
}

function elementwise(ctx: OpContext): OpResult {
  const present = ctx.inputs.filter((t): t is TensorInfo => t !== undefined);
  const shapes = ctx.inputs.map((_, i) => need(ctx, i));
  const out = broadcastShapes(...shapes);
  // n inputs combine with n-1 operations per output element (Mean adds one division).
  const op = ctx.node.opType ?? '';
  const perElem = Math.max(1, shapes.length - 1) + (op === 'Mean' ? 1 : 0);
  let value: number[] | undefined;
  if (present.every((t) => t.value) && numel(out) <= 64 && out.length <= 1 && present.length === 2) {
    const [a, b] = present.map((t) => t.value!);
    value = Array.from({ length: numel(out) }, (_, i) => arithmetic(op, a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]));
    if (value.some((v) => Number.isNaN(v))) value = undefined;
  }
  const elemBytes = COMPARE_OPS.has(op) ? 1 : present[0].elemBytes;
  return { outputs: [{ shape: out, elemBytes, value }], flops: numel(out) * perElem, category: 'elementwise' };
}

function where(ctx: OpContext): OpResult {
  const out = broadcastShapes(need(ctx, 0), need(ctx, 1), need(ctx, 2));
  return { outputs: [like(ctx.inputs[1]!, out)], flops: numel(out), category: 'elementwise' };
}

function batchNorm(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  // At inference the statistics fold into one scale and one shift per channel: 2 FLOPs per element.
  return { outputs: [like(ctx.inputs[0]!, x)], flops: 2 * numel(x), category: 'normalization' };
}

function normalization(perElem: number) {
  return (ctx: OpContext): OpResult => {
    const x = need(ctx, 0);
    const outputs = [like(ctx.inputs[0]!, x)];
    return { outputs, flops: perElem * numel(x), category: 'normalization' };
  };
}

function lrn(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const size = intAttr(ctx, 'size', 1);
  return { outputs: [like(ctx.inputs[0]!, x)], flops: (2 * size + 3) * numel(x), category: 'normalization' };
}

function softmax(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  // max, subtract, exp, sum, divide: 5 per element (exp nominally 1 here; it is a small share).
  return { outputs: [like(ctx.inputs[0]!, x)], flops: 5 * numel(x), category: 'softmax' };
}

function reduce(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const op = ctx.node.opType ?? '';
  let axes = intsAttr(ctx, 'axes');
  if (!axes && ctx.inputs[1]) axes = needValue(ctx, 1, 'axes');
  const isArg = op === 'ArgMax' || op === 'ArgMin';
  if (isArg) axes = [intAttr(ctx, 'axis', 0)];
  const keep = intAttr(ctx, 'keepdims', 1) === 1;
  const noopEmpty = intAttr(ctx, 'noop_with_empty_axes', 0) === 1;
  const all = !axes || axes.length === 0;
  if (all && noopEmpty) return { outputs: [like(ctx.inputs[0]!, x)], flops: 0, category: 'reduce' };
  const set = new Set((axes ?? x.map((_, i) => i)).map((a) => normAxis(a, x.length)));
  const out: number[] = [];
  x.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  const perElem = op === 'ReduceSumSquare' || op === 'ReduceL2' || op === 'ReduceLogSumExp' ? 2 : 1;
  const elemBytes = isArg ? 8 : ctx.inputs[0]!.elemBytes;
  return { outputs: [{ shape: out, elemBytes }], flops: perElem * numel(x), category: 'reduce' };
}

function resize(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const op = ctx.node.opType ?? '';
  let out: number[] | undefined;
  // Resize opset 11+: X, roi, scales, sizes; opset 10 Resize and Upsample 9: X, scales; Upsample 7: attr.
  const sizesIndex = op === 'Resize' && ctx.opset >= 11 ? 3 : -1;
  const scalesIndex = op === 'Resize' && ctx.opset >= 11 ? 2 : 1;
  const sizes = sizesIndex > 0 ? ctx.inputs[sizesIndex]?.value : undefined;
  let scales = ctx.inputs[scalesIndex]?.value;
  if (!scales && op === 'Upsample') scales = ctx.attrs.get('scales') as number[] | undefined;
  if (sizes && sizes.length) out = sizes;
  else if (scales && scales.length === x.length) out = x.map((d, i) => Math.floor(d * scales![i]));
  if (!out) throw new ShapeError(`${op}: neither sizes nor scales are constant`);
  const mode = strAttr(ctx, 'mode', 'nearest');
  const resized = out.filter((d, i) => d !== x[i]).length;
  // nearest: a copy (0 FLOPs); linear: 2^d taps weighted and summed (2·2^d − 1); cubic: 4^d taps.
  const perElem = mode === 'nearest' ? 0 : mode === 'cubic' ? 2 * 4 ** resized : 2 * 2 ** resized - 1;
  return { outputs: [like(ctx.inputs[0]!, out)], flops: perElem * numel(out), category: 'resize' };
}

function free(shape: (ctx: OpContext) => number[], value?: (ctx: OpContext) => number[] | undefined) {
  return (ctx: OpContext): OpResult => ({
    outputs: [like(ctx.inputs[0]!, shape(ctx), value?.(ctx))],
    flops: 0,
    category: 'free',
  });
}

function reshapeShape(ctx: OpContext): number[] {
  const x = need(ctx, 0);
  const target = ctx.inputs[1] ? needValue(ctx, 1, 'shape') : intsAttr(ctx, 'shape');
  if (!target) throw new ShapeError('Reshape: no target shape');
  const allowZero = intAttr(ctx, 'allowzero', 0) === 1;
  const out = target.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = numel(x) / known;
  if (numel(out) !== numel(x)) throw new ShapeError(`Reshape: [${x}] cannot become [${target}]`);
  return out;
}

function flattenShape(ctx: OpContext): number[] {
  const x = need(ctx, 0);
  const axis = normAxis(intAttr(ctx, 'axis', 1), x.length);
  return [numel(x.slice(0, axis)), numel(x.slice(axis))];
}

function axesOf(ctx: OpContext): number[] | undefined {
  const attr = intsAttr(ctx, 'axes');
  if (attr) return attr;
  if (ctx.inputs[1]) return needValue(ctx, 1, 'axes');
  return undefined;
}

function squeezeShape(ctx: OpContext): number[] {
  const x = need(ctx, 0);
  const axes = axesOf(ctx);
  if (!axes) return x.filter((d) => d !== 1);
  const set = new Set(axes.map((a) => normAxis(a, x.length)));
  return x.filter((_, i) => !set.has(i));
}

function unsqueezeShape(ctx: OpContext): number[] {
  const x = need(ctx, 0);
  const axes = axesOf(ctx);
  if (!axes) throw new ShapeError('Unsqueeze: no axes');
  const rank = x.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : x[j++]);
  return out;
}

const passValue = (ctx: OpContext) => ctx.inputs[0]?.value;

function transpose(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const perm = intsAttr(ctx, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  return { outputs: [like(ctx.inputs[0]!, perm.map((p) => x[p]))], flops: 0, category: 'memory' };
}

function concat(ctx: OpContext): OpResult {
  const shapes = ctx.inputs.map((_, i) => need(ctx, i));
  const axis = normAxis(intAttr(ctx, 'axis', 0), shapes[0].length);
  const out = [...shapes[0]];
  out[axis] = shapes.reduce((s, x) => s + x[axis], 0);
  const values = ctx.inputs.map((t) => t?.value);
  const value = shapes[0].length === 1 && values.every((v) => v) ? values.flat() as number[] : undefined;
  return { outputs: [like(ctx.inputs[0]!, out, value)], flops: 0, category: 'memory' };
}

function pad(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const pads = intsAttr(ctx, 'pads') ?? needValue(ctx, 1, 'pads');
  let axes = x.map((_, i) => i);
  if (ctx.inputs[3]) axes = needValue(ctx, 3, 'axes').map((a) => normAxis(a, x.length));
  const out = [...x];
  axes.forEach((a, i) => (out[a] += pads[i] + pads[i + axes.length]));
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 0, category: 'memory' };
}

function shapeOp(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const rank = x.length;
  const start = normAxis(intAttr(ctx, 'start', 0), rank);
  const endAttr = ctx.attrs.get('end');
  const end = typeof endAttr === 'number' ? normAxis(endAttr, rank) : rank;
  const value = x.slice(Math.max(0, start), Math.min(rank, end));
  return { outputs: [{ shape: [value.length], value, elemBytes: 8 }], flops: 0, category: 'free' };
}

function sizeOp(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  return { outputs: [{ shape: [], value: [numel(x)], elemBytes: 8 }], flops: 0, category: 'free' };
}

function gather(ctx: OpContext): OpResult {
  const data = need(ctx, 0);
  const indices = need(ctx, 1);
  const axis = normAxis(intAttr(ctx, 'axis', 0), data.length);
  const out = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  let value: number[] | undefined;
  const dv = ctx.inputs[0]!.value;
  const iv = ctx.inputs[1]!.value;
  if (dv && iv && data.length === 1) value = iv.map((i) => dv[i < 0 ? i + dv.length : i]);
  return { outputs: [like(ctx.inputs[0]!, out, value)], flops: 0, category: 'memory' };
}

function cast(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const to = intAttr(ctx, 'to', DataType.FLOAT);
  return { outputs: [{ shape: x, value: ctx.inputs[0]!.value, elemBytes: elementSize(to) }], flops: 0, category: 'memory' };
}

function constant(ctx: OpContext): OpResult {
  const t = ctx.attrs.get('value');
  if (t && typeof t === 'object' && !Array.isArray(t)) {
    const tensor = t as onnx.ITensorProto;
    return {
      outputs: [{ shape: tensorDims(tensor), value: tensorValues(tensor), elemBytes: elementSize(tensor.dataType) }],
      flops: 0,
      category: 'free',
    };
  }
  for (const [name, elemBytes] of [['value_float', 4], ['value_int', 8]] as const) {
    const v = ctx.attrs.get(name);
    if (typeof v === 'number') return { outputs: [{ shape: [], value: [v], elemBytes }], flops: 0, category: 'free' };
  }
  for (const [name, elemBytes] of [['value_floats', 4], ['value_ints', 8]] as const) {
    const v = ctx.attrs.get(name);
    if (Array.isArray(v)) return { outputs: [{ shape: [v.length], value: v as number[], elemBytes }], flops: 0, category: 'free' };
  }
  throw new ShapeError('Constant: unsupported value attribute');
}

function constantOfShape(ctx: OpContext): OpResult {
  const shape = needValue(ctx, 0, 'shape');
  return { outputs: [{ shape, elemBytes: 4 }], flops: 0, category: 'memory' };
}

function slice(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.inputs.length > 1) {
    starts = needValue(ctx, 1, 'starts');
    ends = needValue(ctx, 2, 'ends');
    axes = ctx.inputs[3] ? needValue(ctx, 3, 'axes') : undefined;
    steps = ctx.inputs[4] ? needValue(ctx, 4, 'steps') : undefined;
  } else {
    starts = intsAttr(ctx, 'starts') ?? [];
    ends = intsAttr(ctx, 'ends') ?? [];
    axes = intsAttr(ctx, 'axes');
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.length));
  const out = [...x];
  const ranges: [number, number, number][] = [];
  ax.forEach((a, i) => {
    const d = x[a];
    const step = steps?.[i] ?? 1;
    const clampIdx = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
    const s = step > 0 ? clampIdx(starts[i], 0, d) : clampIdx(starts[i], -1, d - 1);
    const e = step > 0 ? clampIdx(ends[i], 0, d) : clampIdx(ends[i], -1, d - 1);
    out[a] = Math.max(0, Math.ceil((e - s) / step));
    ranges.push([s, e, step]);
  });
  let value: number[] | undefined;
  const v = ctx.inputs[0]!.value;
  if (v && x.length === 1 && ranges.length === 1) {
    const [s, e, step] = ranges[0];
    value = [];
    for (let i = s; step > 0 ? i < e : i > e; i += step) value.push(v[i]);
  }
  return { outputs: [like(ctx.inputs[0]!, out, value)], flops: 0, category: 'memory' };
}

function split(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const axis = normAxis(intAttr(ctx, 'axis', 0), x.length);
  const count = ctx.node.output?.length ?? 1;
  const sizes = intsAttr(ctx, 'split') ?? (ctx.inputs[1] ? needValue(ctx, 1, 'split') : undefined) ??
    Array.from({ length: count }, (_, i) => Math.ceil(x[axis] / count) - (i === count - 1 ? Math.ceil(x[axis] / count) * count - x[axis] : 0));
  const outputs = sizes.map((s) => {
    const shape = [...x];
    shape[axis] = s;
    return like(ctx.inputs[0]!, shape);
  });
  return { outputs, flops: 0, category: 'memory' };
}

function expand(ctx: OpContext): OpResult {
  const out = broadcastShapes(need(ctx, 0), needValue(ctx, 1, 'shape'));
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 0, category: 'memory' };
}

function tile(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const repeats = needValue(ctx, 1, 'repeats');
  return { outputs: [like(ctx.inputs[0]!, x.map((d, i) => d * repeats[i]))], flops: 0, category: 'memory' };
}

function dropout(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const outputs = [like(ctx.inputs[0]!, x)];
  if ((ctx.node.output?.length ?? 0) > 1) outputs.push({ shape: x, elemBytes: 1 });
  return { outputs, flops: 0, category: 'free' };
}

export type OpRule = (ctx: OpContext) => OpResult;

export const OP_RULES: Record<string, OpRule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  Gemm: gemm,
  MatMul: matmul,
  BatchNormalization: batchNorm,
  InstanceNormalization: normalization(5),
  LayerNormalization: normalization(5),
  LRN: lrn,
  Softmax: softmax,
  LogSoftmax: softmax,
  Hardmax: (ctx) => ({ ...softmax(ctx), flops: 2 * numel(need(ctx, 0)) }),
  Where: where,
  Resize: resize,
  Upsample: resize,
  Reshape: free(reshapeShape, passValue),
  Flatten: free(flattenShape, passValue),
  Squeeze: free(squeezeShape, passValue),
  Unsqueeze: free(unsqueezeShape, passValue),
  Identity: free((ctx) => need(ctx, 0), passValue),
  Dropout: dropout,
  Transpose: transpose,
  Concat: concat,
  Pad: pad,
  Shape: shapeOp,
  Size: sizeOp,
  Gather: gather,
  Cast: cast,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Slice: slice,
  Split: split,
  Expand: expand,
  Tile: tile,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceProd: reduce,
  ReduceL1: reduce,
  ReduceL2: reduce,
  ReduceSumSquare: reduce,
  ReduceLogSumExp: reduce,
  ArgMax: reduce,
  ArgMin: reduce,
};
for (const op of Object.keys(UNARY_FLOPS)) OP_RULES[op] = unary;
for (const op of BINARY_OPS) OP_RULES[op] = elementwise;

/**
 * Rules for the kernels onnxruntime writes into the graph it executes after its optimizations
 * (session option optimizedModelFilePath, graph optimization level 'all'), keyed
 * `<domain>.<opType>`: com.microsoft FusedConv / FusedGemm / FusedMatMul (an activation, and for
 * FusedConv an optional residual sum Z, fused into the kernel) and the CPU's blocked-channel
 * (NCHWc) layout ops of com.microsoft.nchwc (Conv with a fused activation and sum, pooling,
 * ReorderInput / ReorderOutput between NCHW and NCHWc). NCHWc tensors carry their channels padded
 * to the block size: a blocked Conv takes its input channels from its reordered weights.
 */
function fusedExtras(ctx: OpContext, base: OpResult, sumIndex: number): OpResult {
  const out = base.outputs[0].shape ?? [];
  const activation = strAttr(ctx, 'activation', '');
  const sum = ctx.inputs[sumIndex]?.shape !== undefined;
  const extra = (activation ? (UNARY_FLOPS[activation] ?? 1) * numel(out) : 0) + (sum ? numel(out) : 0);
  return { ...base, flops: base.flops + extra };
}

function blockedConv(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const w = need(ctx, 1);
  const group = intAttr(ctx, 'group', 1);
  // The input may hold padded channels (NCHWc): the weights say how many the kernel reads.
  const c = w[1] * group;
  const lenient = { ...ctx, inputs: [{ ...ctx.inputs[0]!, shape: [x[0], c, ...x.slice(2)] }, ...ctx.inputs.slice(1)] };
  return fusedExtras(ctx, conv(lenient), 3);
}

function fusedMatmul(ctx: OpContext): OpResult {
  const swap = (s: number[]) => (s.length >= 2 ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
  const a = need(ctx, 0);
  const b = need(ctx, 1);
  const inputs = [
    { ...ctx.inputs[0]!, shape: intAttr(ctx, 'transA', 0) ? swap(a) : a },
    { ...ctx.inputs[1]!, shape: intAttr(ctx, 'transB', 0) ? swap(b) : b },
  ];
  return matmul({ ...ctx, inputs });
}

function reorderInput(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const out = intAttr(ctx, 'channels_last', 0) && x.length === 4 ? [x[0], x[3], x[1], x[2]] : x;
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 0, category: 'memory' };
}

function reorderOutput(ctx: OpContext): OpResult {
  const x = need(ctx, 0);
  const channels = intAttr(ctx, 'channels', x[1]);
  const out = intAttr(ctx, 'channels_last', 0) ? [x[0], ...x.slice(2), channels] : [x[0], channels, ...x.slice(2)];
  return { outputs: [like(ctx.inputs[0]!, out)], flops: 0, category: 'memory' };
}

/**
 * An NCHW rule applied to the NHWC form onnxruntime's layout transformation writes for the WebGPU
 * provider (domain com.ms.internal.nhwc): input and output 0 are [N, …spatial, C]; the weights
 * stay [M, C/group, …kernel] (read as [M, …kernel, C/group] when only that fits).
 */
function nhwc(rule: OpRule): OpRule {
  const toNchw = (s: number[]) => [s[0], s[s.length - 1], ...s.slice(1, -1)];
  const toNhwc = (s: number[]) => [s[0], ...s.slice(2), s[1]];
  return (ctx) => {
    const inputs = ctx.inputs.map((t, i) => {
      if (!t?.shape || t.shape.length < 3) return t;
      if (i === 0) return { ...t, shape: toNchw(t.shape) };
      if (i === 1 && ctx.inputs[0]?.shape) {
        const c = ctx.inputs[0].shape[ctx.inputs[0].shape.length - 1];
        const group = intAttr(ctx, 'group', 1);
        if (t.shape[1] * group !== c && t.shape[t.shape.length - 1] * group === c) return { ...t, shape: toNchw(t.shape) };
      }
      return t;
    });
    const r = rule({ ...ctx, inputs });
    return { ...r, outputs: r.outputs.map((o, i) => (i === 0 && o.shape && o.shape.length >= 3 ? { ...o, shape: toNhwc(o.shape) } : o)) };
  };
}

export const CONTRIB_RULES: Record<string, OpRule> = {
  'com.ms.internal.nhwc.Conv': nhwc(conv),
  'com.ms.internal.nhwc.FusedConv': nhwc((ctx) => fusedExtras(ctx, conv(ctx), 3)),
  'com.ms.internal.nhwc.MaxPool': nhwc(pool),
  'com.ms.internal.nhwc.AveragePool': nhwc(pool),
  'com.ms.internal.nhwc.GlobalMaxPool': nhwc(globalPool),
  'com.ms.internal.nhwc.GlobalAveragePool': nhwc(globalPool),
  'com.microsoft.FusedConv': (ctx) => fusedExtras(ctx, conv(ctx), 3),
  'com.microsoft.FusedGemm': (ctx) => fusedExtras(ctx, gemm(ctx), -1),
  'com.microsoft.FusedMatMul': fusedMatmul,
  'com.microsoft.nchwc.Conv': blockedConv,
  'com.microsoft.nchwc.MaxPool': pool,
  'com.microsoft.nchwc.AveragePool': pool,
  'com.microsoft.nchwc.GlobalMaxPool': globalPool,
  'com.microsoft.nchwc.GlobalAveragePool': globalPool,
  'com.microsoft.nchwc.ReorderInput': reorderInput,
  'com.microsoft.nchwc.ReorderOutput': reorderOutput,
  'com.microsoft.nchwc.Upsample': resize,
};
