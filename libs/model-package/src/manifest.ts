/** The manifest of a model package: a folder with `manifest.json` and one ONNX file per piece. */

export const SUPPORTED_DATATYPES = ['FP32'] as const;

export interface TensorSpec {
  name: string;
  datatype: 'FP32';
  /** -1 marks the batch dimension. */
  shape: number[];
}

export interface SegmentSpec {
  file: string;
  /** Shape of the feature this segment outputs, batch first (-1). */
  output_shape: number[];
}

export interface ExitSpec {
  file: string;
  /** 0-based index of the segment this exit head follows. */
  after_segment: number;
  /** Default confidence threshold on the max softmax probability (ignored for the final exit). */
  threshold: number;
}

export interface Manifest {
  name: string;
  version: string;
  description?: string;
  input: TensorSpec;
  output: TensorSpec;
  labels?: string[];
  segments: SegmentSpec[];
  exits: ExitSpec[];
}

export class ManifestError extends Error {}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-_]*$/i;

function fail(field: string, problem: string): never {
  throw new ManifestError(`manifest field '${field}' ${problem}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(obj: Record<string, unknown>, key: string, path: string): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0) fail(path, 'must be a non-empty string');
  return value;
}

function requireShape(value: unknown, path: string): number[] {
  if (!Array.isArray(value) || value.length === 0) fail(path, 'must be a non-empty array of dimensions');
  value.forEach((d, i) => {
    const ok = Number.isInteger(d) && (d > 0 || (i === 0 && d === -1));
    if (!ok) fail(`${path}[${i}]`, 'must be a positive integer (-1 allowed only for the batch dimension)');
  });
  return value as number[];
}

function requireTensor(value: unknown, path: string): TensorSpec {
  if (!isObject(value)) fail(path, 'must be an object with name, datatype and shape');
  const name = requireString(value, 'name', `${path}.name`);
  const datatype = requireString(value, 'datatype', `${path}.datatype`);
  if (!(SUPPORTED_DATATYPES as readonly string[]).includes(datatype)) {
    fail(`${path}.datatype`, `is '${datatype}'; supported: ${SUPPORTED_DATATYPES.join(', ')}`);
  }
  const shape = requireShape(value.shape, `${path}.shape`);
  return { name, datatype: 'FP32', shape };
}

function requireFile(obj: Record<string, unknown>, path: string): string {
  const file = requireString(obj, 'file', `${path}.file`);
  if (file.includes('..') || file.startsWith('/')) fail(`${path}.file`, 'must be a file name inside the package');
  if (!file.endsWith('.onnx')) fail(`${path}.file`, 'must name an .onnx file');
  return file;
}

/** Validate a parsed manifest; every error names the field at fault. */
export function validateManifest(raw: unknown): Manifest {
  if (!isObject(raw)) fail('(root)', 'must be a JSON object');
  const name = requireString(raw, 'name', 'name');
  if (!NAME_PATTERN.test(name)) fail('name', 'may hold only letters, digits, - and _');
  const version = requireString(raw, 'version', 'version');
  const input = requireTensor(raw.input, 'input');
  const output = requireTensor(raw.output, 'output');

  if (!Array.isArray(raw.segments) || raw.segments.length === 0) fail('segments', 'must be a non-empty array');
  const segments = raw.segments.map((s: unknown, i: number): SegmentSpec => {
    const path = `segments[${i}]`;
    if (!isObject(s)) fail(path, 'must be an object');
    return { file: requireFile(s, path), output_shape: requireShape(s.output_shape, `${path}.output_shape`) };
  });

  if (!Array.isArray(raw.exits) || raw.exits.length === 0) fail('exits', 'must be a non-empty array');
  const exits = raw.exits.map((e: unknown, i: number): ExitSpec => {
    const path = `exits[${i}]`;
    if (!isObject(e)) fail(path, 'must be an object');
    const after = e.after_segment;
    if (!Number.isInteger(after) || (after as number) < 0 || (after as number) >= segments.length) {
      fail(`${path}.after_segment`, `must be a segment index from 0 to ${segments.length - 1}`);
    }
    const threshold = e.threshold;
    if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
      fail(`${path}.threshold`, 'must be a number from 0 to 1');
    }
    return { file: requireFile(e, path), after_segment: after as number, threshold };
  });
  exits.forEach((e, i) => {
    if (i > 0 && e.after_segment <= exits[i - 1].after_segment) {
      fail(`exits[${i}].after_segment`, 'must be greater than the previous exit\'s (one exit per segment at most, in order)');
    }
  });
  if (exits[exits.length - 1].after_segment !== segments.length - 1) {
    fail(`exits[${exits.length - 1}].after_segment`, 'must be the last segment: the final exit follows the last segment');
  }

  let labels: string[] | undefined;
  if (raw.labels !== undefined) {
    if (!Array.isArray(raw.labels) || raw.labels.some((l) => typeof l !== 'string')) fail('labels', 'must be an array of strings');
    labels = raw.labels as string[];
    const classes = output.shape[output.shape.length - 1];
    if (labels.length !== classes) fail('labels', `has ${labels.length} entries but the output has ${classes} classes`);
  }
  const description = typeof raw.description === 'string' ? raw.description : undefined;
  return { name, version, description, input, output, labels, segments, exits };
}

/** Index of the exit that follows segment `segment`, if any. */
export function exitAfterSegment(manifest: Manifest, segment: number): number | undefined {
  const i = manifest.exits.findIndex((e) => e.after_segment === segment);
  return i < 0 ? undefined : i;
}

/** Number of early exits (every exit but the final one). */
export function earlyExitCount(manifest: Manifest): number {
  return manifest.exits.length - 1;
}
