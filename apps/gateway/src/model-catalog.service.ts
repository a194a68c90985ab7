import { ModelPackage } from '@outlet/model-package';
import { echoText } from '@outlet/contracts';
import { RequestError } from './inference-request';

/** The model packages this gateway accepts requests for (manifests only; no sessions). */
export class ModelCatalog {
  constructor(readonly packages: Map<string, ModelPackage>) {}

  names(): string[] {
    return [...this.packages.keys()];
  }

  get(name: string): ModelPackage {
    const pkg = this.packages.get(name);
    if (!pkg) throw new RequestError(404, `unknown model '${echoText(name)}'; served: ${this.names().join(', ')}`);
    return pkg;
  }
}
