/**
 * The Open Inference Protocol extensions this server implements, as `GET /v2` lists them
 * (Triton's names). One list for the whole gateway: whoever implements another extension (e.g.
 * `statistics`, `model_configuration`) appends its name here.
 */
export const OIP_EXTENSIONS: string[] = ['binary_tensor_data'];
