import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Outlet's gRPC service definition, relative to the repository root. */
export const GRPC_PROTO_FILE = join('apps', 'gateway', 'proto', 'outlet_grpc_predict_v2.proto');

/** The fully qualified service name, as clients and grpcurl spell it. */
export const GRPC_SERVICE_NAME = 'inference.GRPCInferenceService';

/**
 * The .proto file's absolute path. tsc does not copy .proto files into dist, so it is found from
 * this module upward (apps/gateway/src/grpc in the sources, dist/apps/gateway/src/grpc when built):
 * the first folder above holding apps/gateway/proto/… is the repository root.
 */
export function grpcProtoPath(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, GRPC_PROTO_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find ${GRPC_PROTO_FILE} in any folder above ${from}`);
  }
}

/**
 * How messages become JavaScript objects, for the server and for Outlet's own clients (tests,
 * bench): field names as in the .proto (snake_case), int64 as numbers, empty arrays and maps for
 * absent repeated fields, and `parameter_choice` naming the field an InferParameter holds.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** The loaded service: `new GRPCInferenceService(address, credentials)` is a client. */
export function loadGrpcInferenceService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(grpcProtoPath(), PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return pkg.inference.GRPCInferenceService;
}
