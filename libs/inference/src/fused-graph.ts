import { onnx } from 'onnx-proto';

/**
 * Fusing a trunk segment with the exit head that follows it into one ONNX graph with two outputs
 * (the next feature and the head's probabilities), so that an inline head costs no separate
 * onnxruntime call: on an accelerator most of a small head's time is per-call overhead.
 *
 * The fused graph is built in memory from the package's two files when a model loads; the package
 * format does not change. The head's names (nodes, initializers, value_info, intermediate
 * tensors, inside subgraphs too) get a prefix so they cannot clash with the segment's; its input
 * is renamed to the segment's output, and its output keeps its name.
 */

/** The fused model's bytes and the names of its two outputs. */
export interface FusedGraph {
  bytes: Uint8Array;
  /** Name of the output that carries the segment's feature (the segment's output name). */
  featureOutput: string;
  /** Name of the output that carries the head's probabilities (the head's output name). */
  probabilitiesOutput: string;
}

type Version = number | { toNumber(): number } | null | undefined;
const num = (v: Version): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

function decode(bytes: Uint8Array, what: string): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`cannot fuse: the ${what} is not a readable ONNX model (${(err as Error).message})`);
  }
  if (!model.graph) throw new Error(`cannot fuse: the ${what} has no graph`);
  return model;
}

/** The graph's one real input and one output (older IRs list initializers as inputs too; those are not inputs). */
function singleIo(model: onnx.ModelProto, what: string): { input: onnx.IValueInfoProto; output: onnx.IValueInfoProto } {
  const g = model.graph!;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((i) => !initializers.has(i.name));
  const outputs = g.output ?? [];
  if (inputs.length !== 1) {
    throw new Error(`cannot fuse: the ${what} must have exactly 1 input, it has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  }
  if (outputs.length !== 1) {
    throw new Error(`cannot fuse: the ${what} must have exactly 1 output, it has ${outputs.length} (${outputs.map((o) => o.name).join(', ')})`);
  }
  return { input: inputs[0], output: outputs[0] };
}

/** Refuse to join a segment output and a head input whose element types or fixed dimensions differ. */
function checkCompatible(out: onnx.IValueInfoProto, inp: onnx.IValueInfoProto): void {
  const a = out.type?.tensorType;
  const b = inp.type?.tensorType;
  if (!a || !b) return;
  if (a.elemType && b.elemType && a.elemType !== b.elemType) {
    throw new Error(`cannot fuse: the segment's output '${out.name}' has element type ${a.elemType}, the head's input '${inp.name}' ${b.elemType}`);
  }
  const da = a.shape?.dim;
  const db = b.shape?.dim;
  if (!da || !db) return;
  const show = (d: onnx.TensorShapeProto.IDimension[]) => `[${d.map((x) => (x.dimParam ? x.dimParam : num(x.dimValue))).join(', ')}]`;
  const fixedMismatch = da.some((x, i) => x.dimValue != null && db[i]?.dimValue != null && num(x.dimValue) !== num(db[i].dimValue));
  if (da.length !== db.length || fixedMismatch) {
    throw new Error(`cannot fuse: the segment's output '${out.name}' ${show(da)} does not fit the head's input '${inp.name}' ${show(db)}`);
  }
}

/** Every tensor and node name a graph uses (its subgraphs included). */
function namesOf(g: onnx.IGraphProto, into = new Set<string>()): Set<string> {
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) into.add(v.name ?? '');
  for (const t of g.initializer ?? []) into.add(t.name ?? '');
  for (const s of g.sparseInitializer ?? []) into.add(s.values?.name ?? '');
  for (const n of g.node ?? []) {
    into.add(n.name ?? '');
    for (const x of [...(n.input ?? []), ...(n.output ?? [])]) into.add(x);
    for (const a of n.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) namesOf(sub, into);
  }
  into.delete('');
  return into;
}

/** Apply `rename` to every name in a graph, in place (subgraphs too, so outer-scope references follow). */
function renameGraph(g: onnx.IGraphProto, rename: (name: string) => string): void {
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) v.name = rename(v.name ?? '');
  for (const t of g.initializer ?? []) t.name = rename(t.name ?? '');
  for (const s of g.sparseInitializer ?? []) {
    if (s.values) s.values.name = rename(s.values.name ?? '');
    if (s.indices) s.indices.name = rename(s.indices.name ?? '');
  }
  for (const n of g.node ?? []) {
    n.name = rename(n.name ?? '');
    n.input = (n.input ?? []).map(rename);
    n.output = (n.output ?? []).map(rename);
    for (const a of n.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) renameGraph(sub, rename);
  }
}

/** The union of two opset import lists, the higher version per domain. */
function mergeOpsets(a: onnx.IOperatorSetIdProto[], b: onnx.IOperatorSetIdProto[]): onnx.IOperatorSetIdProto[] {
  const versions = new Map<string, number>();
  for (const o of [...a, ...b]) versions.set(o.domain ?? '', Math.max(versions.get(o.domain ?? '') ?? 0, num(o.version)));
  return [...versions].map(([domain, version]) => ({ domain, version }));
}

/**
 * Fuse a segment and the exit head that reads its output into one model (see FusedGraph).
 * Throws an Error naming the problem when either is not a one-input, one-output model, when the
 * segment's output does not fit the head's input, or when their local functions clash.
 */
export function fuseSegmentGraph(segment: Uint8Array, head: Uint8Array): FusedGraph {
  const seg = decode(segment, 'segment');
  const hd = decode(head, 'exit head');
  const segIo = singleIo(seg, 'segment');
  const headIo = singleIo(hd, 'exit head');
  checkCompatible(segIo.output, headIo.input);
  const feature = segIo.output.name ?? '';
  const headIn = headIo.input.name ?? '';
  const probabilities = headIo.output.name ?? '';
  if (probabilities === feature) throw new Error(`cannot fuse: the segment's output and the head's output are both named '${feature}'`);

  // A prefix none of the segment's names starts with, so renamed head names cannot clash.
  const segNames = namesOf(seg.graph!);
  if (segNames.has(probabilities)) {
    throw new Error(`cannot fuse: the head's output name '${probabilities}' is already a tensor or node of the segment`);
  }
  let prefix = 'head/';
  for (let k = 1; [...segNames].some((n) => n.startsWith(prefix)); k++) prefix = `head${k}/`;
  // Empty names stay empty: an empty input is an omitted optional input, an empty node name is allowed.
  const rename = (name: string) => (name === '' ? '' : name === headIn ? feature : name === probabilities ? probabilities : prefix + name);

  const hg = hd.graph!;
  renameGraph(hg, rename);
  const sg = seg.graph!;

  // Local functions (rare in PyTorch exports): keep both sets, refuse two different ones of one name.
  const functions = new Map<string, onnx.IFunctionProto>();
  for (const f of [...(seg.functions ?? []), ...(hd.functions ?? [])]) {
    const key = `${f.domain ?? ''}::${f.name ?? ''}`;
    const prior = functions.get(key);
    if (prior && !bytesEqual(onnx.FunctionProto.encode(prior).finish(), onnx.FunctionProto.encode(f).finish())) {
      throw new Error(`cannot fuse: segment and head both define a different local function ${key}`);
    }
    functions.set(key, f);
  }

  const headOutput = (hg.output ?? [])[0];
  // value_info of the head's renamed input would duplicate the segment's output: drop it.
  const valueInfo = [...(sg.valueInfo ?? []), ...(hg.valueInfo ?? []).filter((v) => v.name !== feature)];
  const fused: onnx.IModelProto = {
    irVersion: Math.max(num(seg.irVersion), num(hd.irVersion)),
    opsetImport: mergeOpsets(seg.opsetImport ?? [], hd.opsetImport ?? []),
    producerName: seg.producerName,
    producerVersion: seg.producerVersion,
    domain: seg.domain,
    modelVersion: seg.modelVersion,
    docString: seg.docString,
    metadataProps: seg.metadataProps,
    functions: [...functions.values()],
    graph: {
      name: `${sg.name || 'segment'}+${hd.graph!.name || 'head'}`,
      node: [...(sg.node ?? []), ...(hg.node ?? [])],
      initializer: [...(sg.initializer ?? []), ...(hg.initializer ?? [])],
      sparseInitializer: [...(sg.sparseInitializer ?? []), ...(hg.sparseInitializer ?? [])],
      // Graph inputs: the segment's (an IR < 4 segment may list its initializers here too); the
      // head's initializers-as-inputs, renamed, stay listed so such a model remains valid.
      input: [...(sg.input ?? []), ...(hg.input ?? []).filter((i) => i.name !== feature)],
      output: [segIo.output, headOutput],
      valueInfo,
    },
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(fused)).finish();
  return { bytes, featureOutput: feature, probabilitiesOutput: probabilities };
}

/** Fused model bytes: outputs [segment's feature, head's probabilities] with their original names. */
export function fuseSegmentWithHead(segment: Uint8Array, head: Uint8Array): Uint8Array {
  return fuseSegmentGraph(segment, head).bytes;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
