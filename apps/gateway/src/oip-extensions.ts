/**
 * The Open Inference Protocol extensions this server implements, as `GET /v2` lists them
 * (Triton's names) and gRPC's ServerMetadata answers. One list for the whole gateway: whoever
 * implements another extension appends its name here.
 */
export const OIP_EXTENSIONS: readonly string[] = ['binary_tensor_data', 'statistics', 'model_configuration', 'schedule_policy'];
