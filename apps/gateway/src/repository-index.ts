import { ModelIndexEntry } from '@outlet/contracts';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';

/**
 * Triton's repository index, as HTTP's `POST /v2/repository/index` and gRPC's RepositoryIndex
 * answer it: every served model, READY while a live trunk worker serves it; `readyOnly` leaves
 * out the others.
 */
export async function repositoryIndex(catalog: ModelCatalog, nodes: NodeRegistry, readyOnly: boolean): Promise<ModelIndexEntry[]> {
  const served = new Set((await nodes.liveNodes()).flatMap((n) => n.models));
  const models = catalog.names().map((name): ModelIndexEntry => {
    const version = catalog.get(name).manifest.version;
    return served.has(name) ? { name, version, state: 'READY' } : { name, version, state: 'UNAVAILABLE', reason: 'no live trunk worker serves it' };
  });
  return readyOnly ? models.filter((m) => m.state === 'READY') : models;
}
