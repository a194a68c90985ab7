import { join } from 'node:path';
import { Feature, MultiExitModel } from "@outlet/inference";
import { loadModelPackage } from '@outlet/model-package';

/** The reference: onnxruntime-node in this process, segments up to an exit, then that head. */
export class DirectModel {
  private constructor(readonly model: MultiExitModel) {}

  static async open(dir: string): Promise<DirectModel> {
    return new DirectModel(await MultiExitModel.load(loadModelPackage(dir), 'cpu', 1));
  }

  /** Probabilities of every exit for one input. */
  async allExits(pixels: number[]): Promise<Float32Array[]> {
    const m = this.model.manifest;
    let feature: Feature = { data: Float32Array.from(pixels), dims: [1, ...m.input.shape.slice(1)] };
    const out: Float32Array[] = [];
    for (let s = 0; s < m.segments.length; s++) {
      feature = await this.model.runSegment(s, feature);
      const exit = this.model.exitAfterSegment(s);
      if (exit !== undefined) out.push(await this.model.runExit(exit, feature));
    }
    return out;
  }

  release() {
    return this.model.release();
  }
}

export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const MODELS_DIR = join(REPO_ROOT, 'models');
export const FIXTURE_MODELS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'models');
