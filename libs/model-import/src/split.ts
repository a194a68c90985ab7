import { onnx } from 'onnx-proto';
import { analyzeModel, toNumber } from '@outlet/onnx-cost';
import { SplitError } from './errors';

/**
 * Splitting one ONNX graph of a multi-exit network (every exit's output a graph output, as
 * torch.onnx.export writes a forward that returns all exits) into the pieces of a model package:
 * trunk segments and exit heads, each a standalone model with one input and one output.
 *
 * Rules (docs/models.md, "Your own model", and docs in the functions below):
 * - trunk = the nodes the final output needs; an early exit's head = the nodes its output needs
 *   that are not trunk nodes; the one tensor a head reads from the trunk (or the graph input) is
 *   the exit's cut. Initializers and constant nodes (nodes that depend on no graph input, e.g.
 *   Constant) are not crossings: they are copied into every piece that reads them.
 * - a cut at t is valid only if, with the trunk's ancestors of t before the cut and the rest after
 *   it, t is the only non-constant tensor the nodes after the cut read from before it.
 * - the final exit's head starts at the latest valid cut after the last early cut that a trunk
 *   node of an early head's entry op type reads (the feature before global pooling + FC), with
 *   fallbacks (see chooseFinalCut).
 */

export interface SplitOptions {
  /** Output names of the exits, in order; the last is the final exit (or the one graph output not listed). */
  exits: string[];
}

export interface SplitExit {
  /** The exit's output name in the original graph (and in its head). */
  output: string;
  /** The trunk tensor the head reads (the output of segment afterSegment). */
  cut: string;
  /** 0-based index of the segment the head follows. */
  afterSegment: number;
  /** True when the output was not a Softmax's: the head ends with an appended Softmax (last axis). */
  softmaxAppended: boolean;
  final: boolean;
}

export interface MultiExitSplit {
  /** The graph input; -1 marks a symbolic or unknown dimension. */
  input: { name: string; shape: number[] };
  /** In segment order, the final exit last. */
  exits: SplitExit[];
  segments: onnx.ModelProto[];
  /** heads[i] belongs to exits[i]. */
  heads: onnx.ModelProto[];
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const TYPE_NAMES = Object.fromEntries(Object.entries(onnx.TensorProto.DataType).map(([k, v]) => [v, k])) as Record<number, string>;

/** Classifier op types a final head is made of when there is no early head to mirror (see chooseFinalCut). */
const DEFAULT_HEAD_OPS = ['GlobalAveragePool', 'GlobalMaxPool', 'ReduceMean', 'Flatten', 'Reshape', 'Squeeze', 'Gemm', 'MatMul', 'Softmax', 'LogSoftmax', 'Identity', 'Dropout'];

const q = (s: string) => `'${s}'`;
const list = (names: string[]) => names.map(q).join(', ');

/** Names a subgraph (If/Loop/Scan body) reads from the enclosing scope. */
function outerRefs(g: onnx.IGraphProto, into: Set<string>): void {
  const local = new Set<string>([...(g.input ?? []).map((i) => i.name ?? ''), ...(g.initializer ?? []).map((t) => t.name ?? '')]);
  for (const n of g.node ?? []) {
    for (const x of nodeReads(n)) if (!local.has(x)) into.add(x);
    for (const o of n.output ?? []) local.add(o);
  }
}

/** Every tensor a node reads: its inputs (omitted optional inputs left out) and its subgraphs' outer references. */
function nodeReads(node: onnx.INodeProto): string[] {
  const names = new Set((node.input ?? []).filter((x) => x !== ''));
  for (const a of node.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) outerRefs(sub, names);
  return [...names];
}

/** The graph as index structures: producers, reads, which nodes are constant. */
class GraphIndex {
  readonly nodes: onnx.INodeProto[];
  readonly reads: string[][];
  readonly producer = new Map<string, number>();
  readonly initializers = new Set<string>();
  /** A node is constant when it reads no graph input, directly or not (Constant, folded shape math). */
  readonly constNode: boolean[] = [];
  private readonly beforeCache = new Map<string, Set<number>>();

  constructor(readonly graph: onnx.IGraphProto, readonly input: string) {
    this.nodes = graph.node ?? [];
    for (const t of graph.initializer ?? []) this.initializers.add(t.name ?? '');
    this.reads = this.nodes.map(nodeReads);
    this.nodes.forEach((n, i) => {
      for (const x of this.reads[i]) {
        if (x !== input && !this.initializers.has(x) && !this.producer.has(x)) {
          throw new SplitError(`node '${n.name || n.opType}' reads '${x}', which no earlier node produces (the graph must be topologically sorted)`);
        }
      }
      this.constNode.push(this.reads[i].every((x) => this.isConstant(x)));
      for (const o of n.output ?? []) if (o) this.producer.set(o, i);
    });
  }

  isConstant(t: string): boolean {
    if (this.initializers.has(t)) return true;
    const p = this.producer.get(t);
    return p !== undefined && this.constNode[p];
  }

  /**
   * The non-constant nodes needed to compute `tensor`, not looking past the `stop` tensors, and
   * whether the walk reached the graph input.
   */
  ancestry(tensor: string, stop: Set<string> = new Set()): { nodes: Set<number>; reachesInput: boolean } {
    const nodes = new Set<number>();
    let reachesInput = false;
    const seen = new Set<string>();
    const todo = [tensor];
    while (todo.length) {
      const t = todo.pop()!;
      if (seen.has(t) || stop.has(t)) continue;
      seen.add(t);
      if (t === this.input) reachesInput = true;
      const p = this.producer.get(t);
      if (p === undefined || this.constNode[p] || nodes.has(p)) continue;
      nodes.add(p);
      todo.push(...this.reads[p]);
    }
    return { nodes, reachesInput };
  }

  /** The trunk nodes before a cut at `t`: its ancestors (none for the graph input). */
  before(t: string): Set<number> {
    let s = this.beforeCache.get(t);
    if (!s) {
      s = this.ancestry(t).nodes;
      this.beforeCache.set(t, s);
    }
    return s;
  }

  /** Position along the graph: the producer's index (-1 for the graph input). */
  position(t: string): number {
    return this.producer.get(t) ?? -1;
  }
}

/** The trunk and its cuts. */
class Trunk {
  readonly nodes: Set<number>;
  /** Trunk node indices in graph order. */
  readonly order: number[];
  private readonly offenderCache = new Map<string, string[]>();

  constructor(readonly ix: GraphIndex, readonly final: string) {
    this.nodes = ix.ancestry(final).nodes;
    this.order = [...this.nodes].sort((a, b) => a - b);
  }

  /** Tensors produced before a cut at t (or the graph input) that trunk nodes after it read, t aside: empty when the cut is valid. */
  offenders(t: string): string[] {
    let out = this.offenderCache.get(t);
    if (out) return out;
    const before = this.ix.before(t);
    const found = new Set<string>();
    for (const i of this.order) {
      if (before.has(i)) continue;
      for (const x of this.ix.reads[i]) {
        if (x === t || this.ix.isConstant(x)) continue;
        const p = this.ix.producer.get(x);
        if (p === undefined || before.has(p)) found.add(x);
      }
    }
    out = [...found].sort((a, b) => this.ix.position(a) - this.ix.position(b));
    this.offenderCache.set(t, out);
    return out;
  }

  /** The trunk nodes after a cut at t. */
  after(t: string): number[] {
    const before = this.ix.before(t);
    return this.order.filter((i) => !before.has(i));
  }

  /** Trunk tensors (outputs of trunk nodes, the final output aside) in graph order. */
  tensors(): string[] {
    return this.order.flatMap((i) => (this.ix.nodes[i].output ?? []).filter((o) => o && o !== this.final));
  }

  /**
   * The nearest valid cut from which every tensor of `need` can be computed alone: the latest
   * trunk tensor u that is a valid cut and such that walking back from each needed tensor stops
   * at u before reaching the graph input (the trunk nodes in between would move into the head).
   */
  nearestCut(need: string[]): string | undefined {
    const candidates = this.tensors().reverse();
    for (const u of candidates) {
      if (need.every((c) => c !== this.ix.input && !this.ix.ancestry(c, new Set([u])).reachesInput) && this.offenders(u).length === 0) return u;
    }
    return undefined;
  }
}

/** Declared value info by tensor name (graph input, value_info, outputs). */
function declaredInfo(g: onnx.IGraphProto): Map<string, onnx.IValueInfoProto> {
  const m = new Map<string, onnx.IValueInfoProto>();
  for (const v of [...(g.input ?? []), ...(g.valueInfo ?? []), ...(g.output ?? [])]) if (v.name) m.set(v.name, v);
  return m;
}

function elemTypeOf(v: onnx.IValueInfoProto | undefined): number | undefined {
  const t = v?.type?.tensorType?.elemType;
  return t ? t : undefined;
}

/** The exit names in order, the final last, from the graph's outputs and the names given. */
function resolveExits(outputs: string[], given: string[]): string[] {
  const unknown = given.filter((n) => !outputs.includes(n));
  if (unknown.length) throw new SplitError(`unknown exit output${unknown.length > 1 ? 's' : ''} ${list(unknown)}; the graph's outputs are ${list(outputs)}`);
  const dup = given.filter((n, i) => given.indexOf(n) !== i);
  if (dup.length) throw new SplitError(`exit output ${list([...new Set(dup)])} is listed twice`);
  const rest = outputs.filter((n) => !given.includes(n));
  if (rest.length === 1) return [...given, rest[0]];
  if (rest.length > 1) {
    throw new SplitError(`the graph outputs ${list(rest)} are not listed as exits; list every exit output (the last one given is the final exit)`);
  }
  if (given.length === 0) throw new SplitError('no exit outputs given and the graph has no output');
  return given;
}

/**
 * Split a multi-exit model into segments and heads (see the rules at the top of this file).
 * Throws SplitError naming the exit and tensors at fault when the graph cannot be split so.
 */
export function splitMultiExit(model: onnx.ModelProto, options: SplitOptions): MultiExitSplit {
  const g = model.graph;
  if (!g) throw new SplitError('the model has no graph');
  const initializerNames = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  // Older IRs list initializers as graph inputs too; those are not inputs.
  const inputs = (g.input ?? []).filter((i) => !initializerNames.has(i.name ?? ''));
  if (inputs.length !== 1) {
    throw new SplitError(`the model must have exactly 1 input; it has ${inputs.length}${inputs.length ? ` (${list(inputs.map((i) => i.name ?? ''))})` : ''}`);
  }
  const inputInfo = inputs[0];
  const inputName = inputInfo.name ?? '';
  const inputType = elemTypeOf(inputInfo);
  if (inputType !== FLOAT) throw new SplitError(`the input '${inputName}' is ${TYPE_NAMES[inputType ?? 0] ?? 'of unknown type'}; only FP32 is supported`);
  const inputDims = inputInfo.type?.tensorType?.shape?.dim ?? [];
  const inputShape = inputDims.map((d) => (d.dimValue != null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : -1));
  const batchSymbolic = inputShape[0] === -1;

  const outputNames = (g.output ?? []).map((o) => o.name ?? '');
  const exitNames = resolveExits(outputNames, options.exits);
  const declared = declaredInfo(g);
  for (const name of exitNames) {
    const t = elemTypeOf(declared.get(name));
    if (t !== undefined && t !== FLOAT) throw new SplitError(`exit output '${name}' is ${TYPE_NAMES[t] ?? t}; only FP32 outputs are supported`);
  }

  const ix = new GraphIndex(g, inputName);
  const final = exitNames[exitNames.length - 1];
  if (!ix.producer.has(final) || ix.isConstant(final)) throw new SplitError(`the final exit '${final}' is not computed from the input`);
  const trunk = new Trunk(ix, final);

  // Early exits: head nodes and the one tensor they read from the trunk.
  const early = exitNames.slice(0, -1).map((output) => {
    const p = ix.producer.get(output);
    if (output === inputName || p === undefined || ix.constNode[p]) {
      throw new SplitError(`exit '${output}' has no head: it is ${output === inputName ? 'the graph input' : 'a constant'}`);
    }
    if (trunk.nodes.has(p)) {
      throw new SplitError(`exit '${output}' is a trunk tensor (the final output '${final}' is computed from it), so it has no head of its own; an exit's output must be used by nothing but its head`);
    }
    const head = ix.ancestry(output).nodes;
    for (const i of [...head]) if (trunk.nodes.has(i)) head.delete(i);
    const crossing = new Set<string>();
    for (const i of head) {
      for (const x of ix.reads[i]) {
        if (ix.isConstant(x)) continue;
        const px = ix.producer.get(x);
        if (x === inputName || (px !== undefined && trunk.nodes.has(px))) crossing.add(x);
      }
    }
    const crossings = [...crossing].sort((a, b) => ix.position(a) - ix.position(b));
    if (crossings.length > 1) {
      const nearest = trunk.nearestCut(crossings);
      throw new SplitError(
        `exit '${output}' reads ${crossings.length} trunk tensors (${list(crossings)}); a head must branch from exactly one` +
          (nearest ? `; the nearest valid cut is '${nearest}' (the trunk nodes from there to ${list(crossings)} would move into the head)` : '; no single trunk tensor can feed it'),
        crossings,
        nearest,
      );
    }
    const cut = crossings[0];
    if (cut === inputName) throw new SplitError(`exit '${output}' reads the graph input '${inputName}' directly: the segment before it would be empty`, [cut]);
    if (cut === final) throw new SplitError(`exit '${output}' reads the final output '${final}': it cannot be an early exit`, [cut]);
    const offenders = trunk.offenders(cut);
    if (offenders.length) {
      const nearest = trunk.nearestCut([cut]);
      const what = offenders.length === 1 ? '(a skip connection) is' : '(skip connections) are';
      throw new SplitError(
        `exit '${output}' branches from '${cut}', but the trunk cannot be cut there: ${list(offenders)} ${what} also read after the cut` +
          (nearest ? `; the nearest valid cut is '${nearest}'` : '; no earlier valid cut exists'),
        offenders,
        nearest,
      );
    }
    return { output, cut, head };
  });

  early.sort((a, b) => ix.before(a.cut).size - ix.before(b.cut).size);
  for (let i = 1; i < early.length; i++) {
    const [a, b] = [early[i - 1], early[i]];
    if (a.cut === b.cut || ix.before(a.cut).size === ix.before(b.cut).size) {
      throw new SplitError(`exits '${a.output}' and '${b.output}' both branch from ${a.cut === b.cut ? `'${a.cut}'` : `the node producing '${a.cut}' and '${b.cut}'`}: a package allows one exit per segment`, [a.cut, b.cut]);
    }
  }

  const finalCut = chooseFinalCut(ix, trunk, early.map((e) => e.cut), early.map((e) => e.head));
  const cuts = [...early.map((e) => e.cut), finalCut];
  const heads = [...early.map((e) => e.head), new Set(trunk.after(finalCut))];
  const outputs = [...early.map((e) => e.output), final];

  const builder = new PieceBuilder(model, ix, declared, batchSymbolic);
  for (const c of cuts) {
    const t = elemTypeOf(declared.get(c));
    if (t !== undefined && t !== FLOAT) throw new SplitError(`the cut '${c}' is ${TYPE_NAMES[t] ?? t}; only FP32 features can pass between pieces`, [c]);
  }
  const segments = cuts.map((cut, k) => {
    const prev = k === 0 ? inputName : cuts[k - 1];
    const prevBefore = ix.before(prev);
    const nodes = new Set([...ix.before(cut)].filter((i) => !prevBefore.has(i)));
    if (nodes.size === 0) throw new SplitError(`segment ${k + 1} (from '${prev}' to '${cut}') would be empty`, [cut]);
    return builder.build(nodes, prev, cut, `segment-${k + 1}`);
  });
  const exits: SplitExit[] = [];
  const headModels = outputs.map((output, k) => {
    const p = ix.producer.get(output)!;
    const softmaxAppended = ix.nodes[p].opType !== 'Softmax';
    exits.push({ output, cut: cuts[k], afterSegment: k, softmaxAppended, final: k === outputs.length - 1 });
    return builder.build(heads[k], cuts[k], output, `exit-${k + 1}`, softmaxAppended);
  });
  return { input: { name: inputName, shape: inputShape }, exits, segments, heads: headModels };
}

/**
 * The final exit's cut, among the valid cuts after the last early cut (so the last segment is not
 * empty), the final output itself aside:
 * 1. mirror the early exits: the latest cut read by a trunk node of an op type an early head
 *    starts with (its entry op: GlobalAveragePool, Flatten, ...), so the last segment ends on the
 *    kind of feature the early heads read (the feature before global pooling + FC);
 * 2. else (no early exit, or no such op) the longest tail made only of classifier ops
 *    (DEFAULT_HEAD_OPS: pooling, Flatten, Reshape, Squeeze, Gemm, MatMul, Softmax, ...);
 * 3. else the shortest tail: the latest valid cut (the single last node when its input is one).
 */
function chooseFinalCut(ix: GraphIndex, trunk: Trunk, earlyCuts: string[], earlyHeads: Set<number>[]): string {
  const lastEarly = earlyCuts.length ? earlyCuts[earlyCuts.length - 1] : ix.input;
  const lastSize = ix.before(lastEarly).size;
  const candidates = trunk.tensors().filter((u) => ix.before(u).size > lastSize && trunk.offenders(u).length === 0);
  if (candidates.length === 0) {
    throw new SplitError(
      `the final exit '${trunk.final}' has no head to split off: after ${earlyCuts.length ? `the last early cut '${lastEarly}'` : `the input '${ix.input}'`} the trunk offers no single tensor to start it from, so the last segment would be empty`,
    );
  }
  const entryOps = new Set(
    earlyHeads.flatMap((head, k) => [...head].filter((i) => ix.reads[i].includes(earlyCuts[k])).map((i) => ix.nodes[i].opType ?? '')),
  );
  const readers = (u: string) => trunk.after(u).filter((i) => ix.reads[i].includes(u));
  const mirrored = [...candidates].reverse().find((u) => readers(u).some((i) => entryOps.has(ix.nodes[i].opType ?? '')));
  if (mirrored) return mirrored;
  const classifier = new Set(DEFAULT_HEAD_OPS);
  return candidates.find((u) => trunk.after(u).every((i) => classifier.has(ix.nodes[i].opType ?? ''))) ?? candidates[candidates.length - 1];
}

/** Builds standalone one-input, one-output models from node sets of the original graph. */
class PieceBuilder {
  private inferred?: Map<string, number[]>;
  private readonly allNames: Set<string>;

  constructor(
    private readonly model: onnx.ModelProto,
    private readonly ix: GraphIndex,
    private readonly declared: Map<string, onnx.IValueInfoProto>,
    private readonly batchSymbolic: boolean,
  ) {
    this.allNames = new Set([...declared.keys(), ...ix.initializers, ...ix.nodes.flatMap((n) => [n.name ?? '', ...(n.output ?? [])])]);
  }

  /** Shapes inferred by the cost model (batch 1), for tensors the graph declares no value_info for. */
  private inferredShape(name: string): number[] | undefined {
    if (!this.inferred) {
      this.inferred = new Map();
      try {
        const cost = analyzeModel(this.model);
        cost.nodes.forEach((n, i) => (this.ix.nodes[i].output ?? []).forEach((o, j) => n.outputShapes[j] && this.inferred!.set(o, n.outputShapes[j]!)));
      } catch {
        // No inference: such tensors keep an unknown shape.
      }
    }
    return this.inferred.get(name);
  }

  /** Value info of a piece's input or output: declared where known, else FP32 with the inferred shape; a symbolic or unknown first dim becomes 'batch'. */
  private ioInfo(name: string): onnx.IValueInfoProto {
    const known = this.declared.get(name);
    const elemType = elemTypeOf(known) ?? FLOAT;
    let dims: onnx.TensorShapeProto.IDimension[] | undefined = known?.type?.tensorType?.shape?.dim ?? undefined;
    if (!dims) {
      const shape = this.inferredShape(name);
      dims = shape?.map((d, i) => (i === 0 && this.batchSymbolic ? { dimParam: 'batch' } : { dimValue: d }));
    }
    const fixed = (d: onnx.TensorShapeProto.IDimension) => d.dimValue != null && toNumber(d.dimValue) > 0;
    const shape = dims ? { dim: dims.map((d, i) => (i === 0 && !fixed(d) ? { dimParam: 'batch' } : fixed(d) ? { dimValue: toNumber(d.dimValue) } : d.dimParam ? { dimParam: d.dimParam } : {})) } : undefined;
    return { name, type: { tensorType: { elemType, shape } }, docString: known?.docString };
  }

  private fresh(base: string): string {
    let name = base;
    for (let k = 1; this.allNames.has(name); k++) name = `${base}_${k}`;
    this.allNames.add(name);
    return name;
  }

  /** A model of `nodes` (plus the constant nodes they need) from tensor `input` to tensor `output`. */
  build(nodes: Set<number>, input: string, output: string, pieceName: string, appendSoftmax = false): onnx.ModelProto {
    const { ix, model } = this;
    const g = model.graph!;
    const all = new Set(nodes);
    // Constant nodes are copied into every piece that reads them.
    const todo = [...nodes];
    while (todo.length) {
      for (const x of ix.reads[todo.pop()!]) {
        const p = ix.producer.get(x);
        if (p !== undefined && ix.constNode[p] && !all.has(p)) {
          all.add(p);
          todo.push(p);
        }
      }
    }
    const order = [...all].sort((a, b) => a - b);
    const used = new Set(order.flatMap((i) => ix.reads[i]));
    const produced = new Set(order.flatMap((i) => ix.nodes[i].output ?? []));
    const internal = (name: string) => produced.has(name) && name !== output && name !== input;
    const inputInfo = this.ioInfo(input);
    const outputInfo = this.ioInfo(output);
    const valueInfo = [...this.declared.values()].filter((v) => internal(v.name ?? '') && v.name !== ix.input);
    const piece: onnx.IModelProto = {
      irVersion: model.irVersion,
      opsetImport: model.opsetImport,
      producerName: model.producerName,
      producerVersion: model.producerVersion,
      domain: model.domain,
      modelVersion: model.modelVersion,
      functions: model.functions,
      graph: {
        name: `${g.name || 'graph'}-${pieceName}`,
        node: order.map((i) => ix.nodes[i]),
        initializer: (g.initializer ?? []).filter((t) => used.has(t.name ?? '')),
        sparseInitializer: (g.sparseInitializer ?? []).filter((t) => used.has(t.values?.name ?? '')),
        // An IR < 4 model lists its initializers as inputs too: keep those this piece uses.
        input: [inputInfo, ...(g.input ?? []).filter((i) => i.name !== ix.input && used.has(i.name ?? '') && ix.initializers.has(i.name ?? ''))],
        output: [outputInfo],
        valueInfo,
      },
    };
    // A deep copy, so that renaming below leaves the original graph alone.
    const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(onnx.ModelProto.create(piece)).finish());
    if (appendSoftmax) {
      // The exit rule needs probabilities: the old output becomes the Softmax's input.
      const logits = this.fresh(`${output}_logits`);
      // Decoded repeated fields may be protobufjs's shared frozen empty array: assign, never push.
      const cg = copy.graph as onnx.GraphProto;
      for (const n of cg.node) {
        n.input = (n.input ?? []).map((x) => (x === output ? logits : x));
        n.output = (n.output ?? []).map((x) => (x === output ? logits : x));
      }
      const rank = outputInfo.type?.tensorType?.shape?.dim?.length;
      cg.node = [
        ...cg.node,
        onnx.NodeProto.create({
          name: this.fresh(`${output}_softmax`),
          opType: 'Softmax',
          input: [logits],
          output: [output],
          attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: rank ? rank - 1 : -1 }],
        }),
      ];
      const info = onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(onnx.ValueInfoProto.create(outputInfo)).finish());
      info.name = logits;
      cg.valueInfo = [...cg.valueInfo, info];
    }
    return copy;
  }
}
