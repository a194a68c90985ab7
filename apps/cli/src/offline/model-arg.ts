import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, ModelPackage, loadModelPackage, modelsHome } from '@outlet/model-package';

/** A model argument: a package folder (holding manifest.json), or a package name in `modelsDir`. */
export function resolveModelPackage(arg: string, modelsDir = modelsHome()): ModelPackage {
  if (existsSync(join(arg, MANIFEST_FILE))) return loadModelPackage(resolve(arg));
  const dir = join(modelsDir, arg);
  if (!existsSync(join(dir, MANIFEST_FILE))) {
    throw new Error(`no model package '${arg}': neither ${arg}/${MANIFEST_FILE} nor ${dir}/${MANIFEST_FILE} exists`);
  }
  return loadModelPackage(dir);
}
