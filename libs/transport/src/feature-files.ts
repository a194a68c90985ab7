import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { bufferToFloat32 } from '@outlet/contracts';

/**
 * Features handed from trunk to branch on one host travel as files in shared memory (/dev/shm is a
 * tmpfs): the bytes never cross Redis. Each node has its own folder; a file is named after its task
 * and exit, written whole before its subjob is queued, and removed by the branch worker that reads
 * it, by the trunk when the task ends, or by the trunk's sweep when a crash left it behind.
 */

/** Default root of the feature folders: /dev/shm where it exists, else the OS temp folder. */
export function defaultFeatureRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm/outlet' : join(tmpdir(), 'outlet-features');
}

/** The folder of one node's features (created on demand). */
export function nodeFeatureDir(root: string, nodeId: string): string {
  const dir = join(root, nodeId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function featureFileName(taskId: string, exitIndex: number): string {
  return `${taskId.replace(/[^A-Za-z0-9_-]/g, '_')}.${exitIndex}.f32`;
}

/** The path of a feature file named in a subjob, refusing any name that could leave the folder. */
export function featureFilePath(dir: string, file: unknown): string {
  if (typeof file !== 'string' || !/^[A-Za-z0-9_-]+\.\d+\.f32$/.test(file) || basename(file) !== file) {
    throw new Error(`feature file name ${JSON.stringify(file)} is not one a trunk worker writes`);
  }
  return join(dir, file);
}

export function writeFeatureFile(path: string, values: Float32Array): void {
  writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Read a feature file and remove it; undefined when it is gone (the task ended, or it expired). */
export function takeFeatureFile(path: string): Float32Array | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  removeFile(path);
  if (bytes.byteLength % 4 !== 0) throw new Error(`feature file ${basename(path)} holds ${bytes.byteLength} bytes, not whole FP32 values`);
  return bufferToFloat32(bytes);
}

export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Remove feature files older than `maxAgeMs` (left by a crash); returns how many. */
export function sweepFeatureFiles(dir: string, maxAgeMs: number, now = Date.now()): number {
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > maxAgeMs) {
        removeFile(path);
        removed++;
      }
    } catch {
      // removed meanwhile by its reader
    }
  }
  return removed;
}

/** Feature files in a folder (for tests and operators). */
export function listFeatureFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.f32')) : [];
}
