import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The models folder commands read and write by default: $OUTLET_MODELS_DIR; else ./models where the
 * working directory has one (a project run from its root); else the models folder this
 * installation ships (found above this file), so `outlet predictor adapt` and `outlet predict` run
 * from any directory share the shipped and the adapted predictors.
 */
export function modelsHome(): string {
  if (process.env.OUTLET_MODELS_DIR) return resolve(process.env.OUTLET_MODELS_DIR);
  const local = resolve('models');
  if (existsSync(local)) return local;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'models', 'kernel-predictor.json'))) return join(dir, 'models');
  }
  return local;
}
