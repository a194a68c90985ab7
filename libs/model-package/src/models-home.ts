import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The models folder this installation ships (the one holding the shipped kernel predictor), found above this file once: it does not move. */
let installed: { dir?: string } | undefined;
function installedModels(): string | undefined {
  if (!installed) {
    installed = {};
    for (let dir = __dirname; dirname(dir) !== dir && !installed.dir; dir = dirname(dir)) {
      if (existsSync(join(dir, 'models', 'kernel-predictor.json'))) installed.dir = join(dir, 'models');
    }
  }
  return installed.dir;
}

/**
 * The folder of model packages commands read and write by default: $OUTLET_MODELS_DIR; else
 * ./models where the working directory has one (a project run from its root); else the models
 * folder this installation ships, so commands run from any directory find the shipped packages.
 */
export function modelsHome(): string {
  if (process.env.OUTLET_MODELS_DIR) return resolve(process.env.OUTLET_MODELS_DIR);
  const local = resolve('models');
  return existsSync(local) ? local : (installedModels() ?? local);
}

/**
 * Where the predictors live (kernel-predictor.json, predictor.json, and predictors/ with this
 * machine's adapted ones): the first of the models folder (modelsHome), ./models and this
 * installation's models folder that holds a kernel predictor. A folder of one's own packages
 * still predicts with the shipped predictor, and `outlet predictor adapt` and `outlet predict`
 * agree on it wherever they run.
 */
export function predictorsHome(): string {
  const folders = [modelsHome(), resolve('models'), installedModels()].filter((d): d is string => d !== undefined);
  return folders.find((d) => existsSync(join(d, 'kernel-predictor.json'))) ?? folders[0];
}
