import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Manifest, ManifestError, validateManifest } from './manifest';

export const MANIFEST_FILE = 'manifest.json';

/** A model package on disk: its validated manifest and where its files are. */
export interface ModelPackage {
  dir: string;
  manifest: Manifest;
  /**
   * Files a node made for its own hardware (its profile.json, by file name), read in place of the
   * package's: the package's own files stay the shipped examples and the fallback.
   */
  own?: Record<string, unknown>;
}

export function loadModelPackage(dir: string): ModelPackage {
  const path = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ManifestError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let manifest: Manifest;
  try {
    manifest = validateManifest(raw);
  } catch (err) {
    throw new ManifestError(`${path}: ${(err as Error).message}`);
  }
  for (const piece of [...manifest.segments, ...manifest.exits]) {
    if (!existsSync(join(dir, piece.file))) throw new ManifestError(`${path}: file '${piece.file}' is missing`);
  }
  return { dir, manifest };
}

/** Every model package directly under `modelsDir` (folders holding a manifest.json), by name. */
export function loadModelPackages(modelsDir: string): Map<string, ModelPackage> {
  if (!existsSync(modelsDir) || !statSync(modelsDir).isDirectory()) {
    throw new ManifestError(`models folder ${modelsDir} does not exist`);
  }
  const packages = new Map<string, ModelPackage>();
  for (const entry of readdirSync(modelsDir).sort()) {
    const dir = join(modelsDir, entry);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, MANIFEST_FILE))) continue;
    const pkg = loadModelPackage(dir);
    if (packages.has(pkg.manifest.name)) {
      throw new ManifestError(`two packages in ${modelsDir} are named '${pkg.manifest.name}'`);
    }
    packages.set(pkg.manifest.name, pkg);
  }
  if (packages.size === 0) throw new ManifestError(`no model package (folder with ${MANIFEST_FILE}) in ${modelsDir}`);
  return packages;
}

/** Read an optional JSON file of the package (profile.json, calibration.json, plans.json). */
export function readPackageJson<T>(pkg: ModelPackage, file: string): T | undefined {
  if (pkg.own?.[file] !== undefined) return pkg.own[file] as T;
  const path = join(pkg.dir, file);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
