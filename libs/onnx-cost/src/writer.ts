import { AttributeType, DataType, onnx } from './onnx-format';
import { OP_RULES, ShapeError, TensorInfo } from './op-rules';

/**
 * A tiny ONNX writer: builds a ModelProto for the small conv / pool / fully-connected graphs the
 * latency predictor's zoo needs (Conv, Relu, MaxPool, AveragePool, GlobalAveragePool, Gemm,
 * MatMul, Flatten, Softmax, Add, and any other op through `node()`), with seeded random FP32
 * initializers, and encodes it to bytes that onnxruntime loads. Shapes are inferred as nodes are
 * added (with the same rules as the cost model), so weights get the right sizes and a malformed
 * graph fails here rather than in the runtime.
 */

/** An attribute value: integers and integer lists as given; wrap floats as {float} / {floats}. */
export type AttrInput = number | number[] | string | { float: number } | { floats: number[] };

export interface WriterOptions {
  /** Default-domain opset (13 by default). */
  opset?: number;
  /** ONNX IR version (8 by default, what onnxruntime 1.30 and opset 13 expect). */
  irVersion?: number;
  /** Seed of the random initializers. */
  seed?: number;
  graphName?: string;
  /** Also write value_info (element type and inferred shape) for every intermediate tensor, as exporters do. */
  valueInfo?: boolean;
}

/** Deterministic 32-bit PRNG (mulberry32): uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function toAttribute(name: string, v: AttrInput): onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: Buffer.from(v, 'utf8') };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: wrap the float ${v} as {float: ${v}}`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.FLOATS, floats: v.floats };
}

export interface ConvSpec {
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Explicit symmetric padding, or 'same' (auto_pad SAME_UPPER; explicit pads when dilated), or 'valid'. Default 'same'. */
  pad?: number | 'same' | 'valid';
  dilation?: number;
  group?: number;
  bias?: boolean;
}

export interface PoolSpec {
  kernel: number;
  stride?: number;
  pad?: number;
}

export class OnnxWriter {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: string[] = [];
  private readonly tensors = new Map<string, TensorInfo>();
  private readonly random: () => number;
  private readonly opset: number;
  private dynamicBatch = false;
  private counter = 0;

  constructor(private readonly options: WriterOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.opset = options.opset ?? 13;
  }

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  /** Shape inferred for a tensor (dynamic batch as 1). */
  shape(name: string): number[] {
    const s = this.tensors.get(name)?.shape;
    if (!s) throw new Error(`no tensor '${name}'`);
    return s;
  }

  /** A FP32 graph input; -1 in the first dimension makes the batch dynamic ('N'). */
  input(name: string, shape: number[]): string {
    const dynamic = shape[0] === -1;
    this.dynamicBatch ||= dynamic;
    this.inputs.push({
      name,
      type: {
        tensorType: {
          elemType: DataType.FLOAT,
          shape: { dim: shape.map((d, i) => (i === 0 && dynamic ? { dimParam: 'N' } : { dimValue: d })) },
        },
      },
    });
    this.tensors.set(name, { shape: shape.map((d) => (d === -1 ? 1 : d)), elemBytes: 4 });
    return name;
  }

  /** An FP32 initializer with the given values. */
  initializer(name: string, dims: number[], values: Float32Array | number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    this.initializers.push({
      name,
      dims,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
    });
    this.tensors.set(name, { shape: dims, elemBytes: 4, initializer: true, value: data.length <= 64 ? [...data] : undefined });
    return name;
  }

  /** An INT64 initializer (shapes, axes, pads). */
  int64Initializer(name: string, dims: number[], values: number[]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims, dataType: DataType.INT64, rawData: raw });
    this.tensors.set(name, { shape: dims, elemBytes: 8, initializer: true, value: values });
    return name;
  }

  /** Random FP32 weights, uniform with variance 1/fanIn (keeps activations bounded through layers). */
  randomWeights(name: string, dims: number[], fanIn: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const a = Math.sqrt(3 / Math.max(1, fanIn));
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (this.random() * 2 - 1) * a;
    return this.initializer(name, dims, data);
  }

  /** Add any node; its output shapes are inferred (an unknown op or bad shapes throws). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrInput> = {}, outputCount = 1): string[] {
    const name = this.fresh(opType.toLowerCase());
    const outputs = Array.from({ length: outputCount }, (_, i) => (outputCount === 1 ? name : `${name}_${i}`));
    const node: onnx.INodeProto = {
      name,
      opType,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    };
    const rule = OP_RULES[opType];
    if (!rule) throw new Error(`the writer has no shape rule for '${opType}'`);
    const attrMap = new Map(
      Object.entries(attrs).map(([k, v]) => [k, typeof v === 'object' && !Array.isArray(v) ? ('float' in v ? v.float : v.floats) : v]),
    );
    let result;
    try {
      result = rule({ node, attrs: attrMap, inputs: inputs.map((n) => (n ? this.tensors.get(n) : undefined)), opset: this.opset });
    } catch (err) {
      if (err instanceof ShapeError) throw new Error(`cannot add ${opType}: ${err.message}`);
      throw err;
    }
    outputs.forEach((o, i) => this.tensors.set(o, result.outputs[i]));
    this.nodes.push(node);
    return outputs;
  }

  conv(x: string, spec: ConvSpec): string {
    const [, cin] = this.shape(x);
    const { outChannels, kernel, stride = 1, pad = 'same', dilation = 1, group = 1, bias = true } = spec;
    if (cin % group !== 0 || outChannels % group !== 0) throw new Error(`conv: group ${group} must divide ${cin} and ${outChannels}`);
    const fanIn = (cin / group) * kernel * kernel;
    const w = this.randomWeights(this.fresh('conv.weight'), [outChannels, cin / group, kernel, kernel], fanIn);
    const inputs = [x, w];
    if (bias) inputs.push(this.randomWeights(this.fresh('conv.bias'), [outChannels], fanIn));
    const attrs: Record<string, AttrInput> = {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
      dilations: [dilation, dilation],
      group,
    };
    // onnxruntime refuses auto_pad SAME_* with dilation: write the equivalent explicit pads then.
    if (pad === 'same' && dilation > 1 && kernel % 2 === 1) {
      const p = ((kernel - 1) * dilation) / 2;
      attrs.pads = [p, p, p, p];
    } else if (pad === 'same') attrs.auto_pad = 'SAME_UPPER';
    else if (pad === 'valid') attrs.auto_pad = 'VALID';
    else attrs.pads = [pad, pad, pad, pad];
    return this.node('Conv', inputs, attrs)[0];
  }

  relu(x: string): string {
    return this.node('Relu', [x])[0];
  }

  private pool(op: 'MaxPool' | 'AveragePool', x: string, spec: PoolSpec): string {
    const { kernel, stride = kernel, pad = 0 } = spec;
    return this.node(op, [x], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] })[0];
  }

  maxPool(x: string, spec: PoolSpec): string {
    return this.pool('MaxPool', x, spec);
  }

  averagePool(x: string, spec: PoolSpec): string {
    return this.pool('AveragePool', x, spec);
  }

  globalAveragePool(x: string): string {
    return this.node('GlobalAveragePool', [x])[0];
  }

  flatten(x: string, axis = 1): string {
    return this.node('Flatten', [x], { axis })[0];
  }

  /** Fully connected: Gemm with weights [out, in] (transB), as PyTorch exports nn.Linear. */
  gemm(x: string, outFeatures: number, bias = true): string {
    const [, fin] = this.shape(x);
    const w = this.randomWeights(this.fresh('fc.weight'), [outFeatures, fin], fin);
    const inputs = [x, w];
    if (bias) inputs.push(this.randomWeights(this.fresh('fc.bias'), [outFeatures], fin));
    return this.node('Gemm', inputs, { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 })[0];
  }

  /** MatMul of x [..., K] by random weights [K, outFeatures]. */
  matmul(x: string, outFeatures: number): string {
    const s = this.shape(x);
    const k = s[s.length - 1];
    const w = this.randomWeights(this.fresh('mm.weight'), [k, outFeatures], k);
    return this.node('MatMul', [x, w])[0];
  }

  /** A Constant node holding an FP32 tensor (its output is the returned name). */
  constant(dims: number[], values: number[]): string {
    const name = this.fresh('constant');
    const data = Float32Array.from(values);
    const value: onnx.ITensorProto = {
      dims,
      dataType: DataType.FLOAT,
      rawData: new Uint8Array(data.buffer.slice(0)),
    };
    this.nodes.push({ name, opType: 'Constant', input: [], output: [name], attribute: [{ name: 'value', type: AttributeType.TENSOR, t: value }] });
    this.tensors.set(name, { shape: dims, elemBytes: 4, value: data.length <= 64 ? [...data] : undefined });
    return name;
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b])[0];
  }

  softmax(x: string, axis = -1): string {
    return this.node('Softmax', [x], { axis })[0];
  }

  /** Mark a tensor as a graph output. */
  output(name: string): this {
    this.outputs.push(name);
    return this;
  }

  private valueInfoOf(name: string): onnx.IValueInfoProto {
    const t = this.tensors.get(name)!;
    return {
      name,
      type: {
        tensorType: {
          elemType: t.elemBytes === 8 ? DataType.INT64 : DataType.FLOAT,
          shape: { dim: t.shape!.map((d, i) => (i === 0 && this.dynamicBatch ? { dimParam: 'N' } : { dimValue: d })) },
        },
      },
    };
  }

  toModel(): onnx.IModelProto {
    if (this.outputs.length === 0) throw new Error('the graph has no output');
    const output = this.outputs.map((name) => this.valueInfoOf(name));
    const outputSet = new Set(this.outputs);
    // Intermediate tensors with known shapes (not graph outputs, not Constant outputs).
    const valueInfo = this.options.valueInfo
      ? this.nodes
          .filter((n) => n.opType !== 'Constant')
          .flatMap((n) => n.output ?? [])
          .filter((name) => !outputSet.has(name) && this.tensors.get(name)?.shape)
          .map((name) => this.valueInfoOf(name))
      : [];
    return {
      irVersion: this.options.irVersion ?? 8,
      producerName: 'outlet-onnx-writer',
      producerVersion: '1',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: {
        name: this.options.graphName ?? 'graph',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output,
        valueInfo,
      },
    };
  }

  /** The encoded ModelProto (what an .onnx file holds). */
  encode(): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toModel())).finish();
  }
}
