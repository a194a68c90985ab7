import { Manifest, ModelPackage } from '@outlet/model-package';
import { echoText } from '@outlet/contracts';
import { RequestError } from './inference-request';

/** `version` must be empty or undefined (the served one) or the served version; otherwise 404. */
export function checkVersion(manifest: Manifest, version: string | undefined): void {
  if (version && version !== manifest.version) {
    throw new RequestError(404, `model '${manifest.name}' has no version '${echoText(version)}' (served: ${manifest.version})`);
  }
}

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

  /** The manifest of `name` at `version` (empty or undefined: the served one); 404 for an unknown model or version. */
  manifest(name: string, version?: string): Manifest {
    const m = this.get(name).manifest;
    checkVersion(m, version);
    return m;
  }
}
