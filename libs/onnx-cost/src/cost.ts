import { AttributeValue, elementSize, nodeAttributes, onnx, readOnnxModel, tensorDims, tensorValues, toNumber } from './onnx-format';
import { CONTRIB_RULES, OP_CATEGORIES, OP_RULES, OpCategory, OpResult, ShapeError, TensorInfo, numel, tensorBytes } from './op-rules';

/** Cost of one node of the graph. */
export interface NodeCost {
  name: string;
  opType: string;
  category: OpCategory | 'unknown';
  /** Floating-point operations (a multiply-accumulate counts 2). */
  flops: number;
  /** Bytes read and written (inputs including weights, and outputs). */
  bytes: number;
  /** Elements of the initializers (weights) this node reads (a shared weight counts at each reader). */
  params: number;
  inputShapes: (number[] | undefined)[];
  outputShapes: (number[] | undefined)[];
  /** False when no rule covers the op type, or shapes could not be inferred: its cost is not known. */
  known: boolean;
  problem?: string;
}

export interface CostTotals {
  flops: number;
  bytes: number;
  count: number;
}

/** Cost of one ONNX model file (a segment or an exit head), summed over its nodes. */
export interface ModelCost {
  /** Graph inputs (not initializers) with the shapes inference started from. */
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape?: number[] }[];
  nodes: NodeCost[];
  flops: number;
  bytes: number;
  /** Elements of all initializers (weights), each counted once. */
  params: number;
  /** Nodes that launch a kernel (every node but Constant). */
  opCount: number;
  byCategory: Record<OpCategory, CostTotals>;
  byOpType: Record<string, CostTotals>;
  /** Op types with no cost rule (their nodes are listed in `nodes` with known=false). */
  unknownOps: string[];
  /** Nodes whose shapes or cost could not be inferred, with the reason. */
  unresolved: { node: string; opType: string; problem: string }[];
}

export interface AnalyzeOptions {
  /** Value for dynamic (symbolic or -1) dimensions of graph inputs; 1 by default (batch 1). */
  batch?: number;
  /** Explicit shapes for graph inputs, by name (override the declared ones). */
  inputShapes?: Record<string, number[]>;
}

function declaredShape(vi: onnx.IValueInfoProto, batch: number): number[] | undefined {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) => {
    const v = d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0;
    return v > 0 ? v : batch;
  });
}

function fullyDeclared(vi: onnx.IValueInfoProto): number[] | undefined {
  const dims = vi.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  const out = dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0));
  return out.every((d) => d > 0) ? out : undefined;
}

function emptyTotals(): Record<OpCategory, CostTotals> {
  return Object.fromEntries(OP_CATEGORIES.map((c) => [c, { flops: 0, bytes: 0, count: 0 }])) as Record<OpCategory, CostTotals>;
}

/** Default opset version of a model (the '' / 'ai.onnx' domain). */
export function defaultOpset(model: onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toNumber(entry.version) : 13;
}

/**
 * Infer shapes through the graph from its input shapes (dynamic dimensions set to `batch`, 1 by
 * default) and initializer dims, and compute FLOPs and bytes per node and in total.
 */
export function analyzeModel(source: string | Uint8Array | onnx.IModelProto, options: AnalyzeOptions = {}): ModelCost {
  const model = typeof source === 'string' || source instanceof Uint8Array ? readOnnxModel(source) : source;
  const graph = model.graph;
  if (!graph) throw new Error('the ONNX model has no graph');
  const batch = options.batch ?? 1;
  const opset = defaultOpset(model);
  const tensors = new Map<string, TensorInfo>();

  let params = 0;
  for (const init of graph.initializer ?? []) {
    params += numel(tensorDims(init));
    tensors.set(init.name ?? '', {
      shape: tensorDims(init),
      value: tensorValues(init),
      elemBytes: elementSize(init.dataType),
      initializer: true,
    });
  }
  const inputs: ModelCost['inputs'] = [];
  for (const vi of graph.input ?? []) {
    const name = vi.name ?? '';
    if (tensors.has(name)) continue; // an initializer also listed as input (older IR)
    const shape = options.inputShapes?.[name] ?? declaredShape(vi, batch);
    if (!shape) throw new Error(`graph input '${name}' has no declared shape; pass inputShapes`);
    tensors.set(name, { shape, elemBytes: elementSize(vi.type?.tensorType?.elemType) });
    inputs.push({ name, shape });
  }
  // Declared shapes of intermediate values and outputs: a fallback where inference cannot go.
  const declared = new Map<string, onnx.IValueInfoProto>();
  for (const vi of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) declared.set(vi.name ?? '', vi);

  const nodes: NodeCost[] = [];
  const byCategory = emptyTotals();
  const byOpType: Record<string, CostTotals> = {};
  const unknownOps = new Set<string>();
  const unresolved: ModelCost['unresolved'] = [];
  let flops = 0;
  let bytes = 0;
  let opCount = 0;

  (graph.node ?? []).forEach((node, index) => {
    const opType = node.opType ?? '';
    const name = node.name || `${opType}_${index}`;
    const domain = node.domain ?? '';
    const inputsInfo = (node.input ?? []).map((n) => (n ? tensors.get(n) ?? { elemBytes: 4 } : undefined));
    const attrs: Map<string, AttributeValue> = nodeAttributes(node);
    const rule = domain === '' || domain === 'ai.onnx' ? OP_RULES[opType] : CONTRIB_RULES[`${domain}.${opType}`];
    let result: OpResult | undefined;
    let problem: string | undefined;
    if (!rule) {
      unknownOps.add(domain ? `${domain}.${opType}` : opType);
      problem = `no cost rule for op type '${domain ? `${domain}.` : ''}${opType}'`;
    } else {
      try {
        result = rule({ node, attrs, inputs: inputsInfo, opset });
      } catch (err) {
        if (!(err instanceof ShapeError)) throw err;
        problem = err.message;
      }
    }
    const outputNames = node.output ?? [];
    const outputs: (TensorInfo | undefined)[] = outputNames.map((n, i) => {
      const inferred = result?.outputs[i];
      if (inferred) return inferred;
      const vi = declared.get(n);
      const shape = vi ? fullyDeclared(vi) : undefined;
      return shape ? { shape, elemBytes: elementSize(vi?.type?.tensorType?.elemType) } : undefined;
    });
    outputNames.forEach((n, i) => {
      if (n && outputs[i]) tensors.set(n, outputs[i]!);
    });
    const known = result !== undefined;
    const category = result?.category ?? 'unknown';
    const nodeFlops = result?.flops ?? 0;
    const nodeBytes = !result
      ? 0
      : result.bytes ?? (category === 'free' ? 0 : inputsInfo.reduce((s, t) => s + tensorBytes(t), 0) + outputs.reduce((s, t) => s + tensorBytes(t), 0));
    const nodeParams = inputsInfo.reduce((s, t) => s + (t?.initializer && t.shape ? numel(t.shape) : 0), 0);
    if (!known) unresolved.push({ node: name, opType, problem: problem ?? 'unknown' });
    nodes.push({
      name,
      opType,
      category,
      flops: nodeFlops,
      bytes: nodeBytes,
      params: nodeParams,
      inputShapes: inputsInfo.map((t) => t?.shape),
      outputShapes: outputs.map((t) => t?.shape),
      known,
      problem,
    });
    flops += nodeFlops;
    bytes += nodeBytes;
    if (opType !== 'Constant') opCount += 1;
    if (result) {
      const c = byCategory[result.category];
      c.flops += nodeFlops;
      c.bytes += nodeBytes;
      c.count += 1;
    }
    const t = (byOpType[opType] ??= { flops: 0, bytes: 0, count: 0 });
    t.flops += nodeFlops;
    t.bytes += nodeBytes;
    t.count += 1;
  });

  const outputs = (graph.output ?? []).map((vi) => ({ name: vi.name ?? '', shape: tensors.get(vi.name ?? '')?.shape }));
  return { inputs, outputs, nodes, flops, bytes, params, opCount, byCategory, byOpType, unknownOps: [...unknownOps].sort(), unresolved };
}

/** Whether every node's cost is known (no unknown op types and no unresolved shapes). */
export function isFullyCosted(cost: ModelCost): boolean {
  return cost.unresolved.length === 0;
}
