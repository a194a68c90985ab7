import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HardwareFingerprint } from '@outlet/contracts';
import { MANIFEST_FILE, ModelPackage } from '@outlet/model-package';
import { ProfileFile } from './profile';
import { describeMachine, machineFingerprint } from './machine';

/**
 * A package's profile measured by a node on its own hardware: the value stored in Redis under
 * storedProfileKey(model, package digest, fingerprint id), and in the node's local cache.
 */
export interface StoredProfile {
  format: 1;
  model: string;
  /** packageDigest() of the package measured: a changed model file is a different package. */
  packageDigest: string;
  fingerprint: HardwareFingerprint;
  measuredBy: string;
  measuredAt: string;
  measureSeconds: number;
  profile: ProfileFile;
}

/** 16 hex digits of a SHA-256 over the manifest and every segment and exit file, in manifest order. */
export function packageDigest(pkg: ModelPackage): string {
  const hash = createHash('sha256');
  const files = [MANIFEST_FILE, ...pkg.manifest.segments.map((s) => s.file), ...pkg.manifest.exits.map((e) => e.file)];
  for (const file of files) hash.update(file).update(readFileSync(join(pkg.dir, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Where a node's local cache keeps a stored profile: <cacheDir>/profiles/<fingerprint id>/<model>-<digest>.json. */
export function cachedProfilePath(cacheDir: string, model: string, digest: string, fingerprintId: string): string {
  return join(cacheDir, 'profiles', fingerprintId, `${model}-${digest}.json`);
}

/** A stored profile from the local cache, if one is there and well formed for that key. */
export function readCachedProfile(cacheDir: string, model: string, digest: string, fingerprintId: string): StoredProfile | undefined {
  const path = cachedProfilePath(cacheDir, model, digest, fingerprintId);
  if (!existsSync(path)) return undefined;
  return parseStoredProfile(readFileSync(path, 'utf8'), model, digest, fingerprintId);
}

/** Write atomically (rename), so a node starting beside a writing one never reads half a file. */
export function writeCachedProfile(cacheDir: string, stored: StoredProfile): string {
  const path = cachedProfilePath(cacheDir, stored.model, stored.packageDigest, stored.fingerprint.id);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(stored)}\n`);
  renameSync(tmp, path);
  return path;
}

/** Parse a stored profile; undefined when the text is not one for that model, package and fingerprint. */
export function parseStoredProfile(text: string, model: string, digest: string, fingerprintId: string): StoredProfile | undefined {
  try {
    const s = JSON.parse(text) as StoredProfile;
    const ok = s.format === 1 && s.model === model && s.packageDigest === digest && s.fingerprint?.id === fingerprintId && Array.isArray(s.profile?.measurements);
    return ok ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The StoredProfile of a profile measured on this machine, for one of its providers (undefined when it has none there). */
export function storedProfileOf(pkg: ModelPackage, profile: ProfileFile, ep: string, measuredBy: string, measureSeconds: number): StoredProfile | undefined {
  const fingerprint = profile.fingerprints?.[ep];
  if (!fingerprint) return undefined;
  return { format: 1, model: profile.model, packageDigest: packageDigest(pkg), fingerprint, measuredBy, measuredAt: profile.created_at, measureSeconds, profile };
}

/** This machine's own profile of a package in its local cache, for a trunk provider and thread budgets. */
export function cachedProfileHere(pkg: ModelPackage, cacheDir: string, ep: string, threads: number, branchThreads: number): StoredProfile | undefined {
  const fingerprint = machineFingerprint(describeMachine(), ep, threads, branchThreads);
  return readCachedProfile(cacheDir, pkg.manifest.name, packageDigest(pkg), fingerprint.id);
}

/**
 * This machine's own hand-off model (`outlet transfer`): <cacheDir>/transfer/<fingerprint id>.json,
 * keyed like a node's profiles (its CPU, a cpu trunk and its thread budgets); a node with that
 * fingerprint plans with it in place of its package's transfer.json.
 */
export function cachedTransferPath(cacheDir: string, fingerprintId: string): string {
  return join(cacheDir, 'transfer', `${fingerprintId}.json`);
}

/** Where this machine's own hand-off model is kept for its thread budgets (the fingerprint of a cpu trunk with them). */
export function cachedTransferHere(cacheDir: string, threads: number, branchThreads: number): string {
  return cachedTransferPath(cacheDir, machineFingerprint(describeMachine(), 'cpu', threads, branchThreads).id);
}

/** A hand-off model `outlet transfer` stored (at cachedTransferPath / cachedTransferHere), if there is one. */
export function readCachedTransfer(path: string): unknown | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
