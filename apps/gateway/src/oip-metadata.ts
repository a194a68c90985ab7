import { Manifest } from '@outlet/model-package';

/**
 * The Open Inference Protocol extensions this server implements, as `GET /v2` lists them
 * (Triton's names) and gRPC's ServerMetadata answers. One list for the whole gateway: whoever
 * implements another extension appends its name here.
 */
export const OIP_EXTENSIONS: readonly string[] = ['binary_tensor_data', 'statistics', 'model_configuration', 'schedule_policy'];

/** The platform name a model's metadata and configuration give. */
export const MODEL_PLATFORM = 'outlet_multi_exit_onnx';

/** Server metadata, as `GET /v2` and gRPC ServerMetadata answer it. */
export function serverMetadata() {
  return { name: 'outlet', version: '0.1.0', extensions: [...OIP_EXTENSIONS] };
}

/** A model's metadata as both protocols give it (HTTP adds Outlet's `parameters`). */
export function modelMetadata(m: Manifest) {
  return { name: m.name, versions: [m.version], platform: MODEL_PLATFORM, inputs: [m.input], outputs: [m.output] };
}
