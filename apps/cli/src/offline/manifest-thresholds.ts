import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, ModelPackage, validateManifest } from '@outlet/model-package';

/**
 * Write exit thresholds into a package's manifest.json, keeping the file's layout: the
 * `"threshold": x` entries are replaced in place when there is exactly one per exit; otherwise
 * the manifest is rewritten with two-space indentation. The result is validated before writing.
 */
export function writeManifestThresholds(pkg: ModelPackage, thresholds: readonly number[]): string {
  const path = join(pkg.dir, MANIFEST_FILE);
  const text = readFileSync(path, 'utf8');
  const raw = JSON.parse(text) as { exits: { threshold: number }[] };
  if (thresholds.length !== raw.exits.length) throw new Error(`${thresholds.length} thresholds for ${raw.exits.length} exits`);
  raw.exits.forEach((e, i) => (e.threshold = thresholds[i]));
  validateManifest(raw);
  const pattern = /("threshold"\s*:\s*)(-?[0-9.eE+-]+)/g;
  let out: string;
  if ((text.match(pattern) ?? []).length === thresholds.length) {
    let i = 0;
    out = text.replace(pattern, (_, key: string) => `${key}${thresholds[i++]}`);
    const check = JSON.parse(out) as { exits: { threshold: number }[] };
    if (JSON.stringify(check) !== JSON.stringify(raw)) out = `${JSON.stringify(raw, null, 2)}\n`;
  } else {
    out = `${JSON.stringify(raw, null, 2)}\n`;
  }
  writeFileSync(path, out);
  return path;
}
