/**
 * Pure shaping of Outlet's fleet-wide counters (libs/transport stats-counters) into Triton's
 * statistics extension JSON and Triton's model configuration JSON.
 */
import { Duration, TritonModelConfig, TritonModelStat, TritonTensorConfig } from '@outlet/contracts';
import { Manifest } from '@outlet/model-package';
import { MODEL_PLATFORM } from './oip-metadata';

const n = (c: Record<string, number>, field: string): number => (Number.isFinite(c[field]) ? c[field] : 0);
const dur = (c: Record<string, number>, prefix: string): Duration => ({ count: n(c, `${prefix}_count`), ns: n(c, `${prefix}_ns`) });

/** Triton's statistics for one model version from its counters (see statsKey for the fields). */
export function toTritonModelStat(name: string, version: string, exitCount: number, c: Record<string, number>): TritonModelStat {
  const compute_input = dur(c, 'compute_input');
  const compute_infer = dur(c, 'compute_infer');
  const compute_output = dur(c, 'compute_output');
  const exits = Array.from({ length: exitCount }, (_, i) => {
    const branch = n(c, `exit:${i}:branch`);
    const trunk = n(c, `exit:${i}:trunk`);
    return { exit_index: i, branch, trunk, total: branch + trunk };
  });
  const executions = n(c, 'execution_count');
  return {
    name,
    version,
    last_inference: n(c, 'last_inference'),
    inference_count: n(c, 'inference_count'),
    execution_count: executions,
    inference_stats: {
      // Synchronous requests are timed by their gateway, tasks nobody waited on by their trunk.
      success: { count: n(c, 'success_count') + n(c, 'async_success_count'), ns: n(c, 'success_ns') + n(c, 'async_success_ns') },
      fail: dur(c, 'fail'),
      queue: dur(c, 'queue'),
      compute_input,
      compute_infer,
      compute_output,
      cache_hit: { count: 0, ns: 0 },
      cache_miss: { count: 0, ns: 0 },
    },
    // Every execution is of batch 1.
    batch_stats: executions > 0 ? [{ batch_size: 1, compute_input, compute_infer, compute_output }] : [],
    outlet: {
      exits,
      trunk: { segments_run: n(c, 'segments_run'), segments_wasted: n(c, 'segments_wasted'), hand_offs: n(c, 'hand_offs') },
      branch: {
        subjobs_run: n(c, 'branch:run'),
        subjobs_dropped: n(c, 'branch:dropped'),
        outcomes: { exit: n(c, 'branch:exit'), late: n(c, 'branch:late'), continue: n(c, 'branch:continue'), dropped: n(c, 'branch:dropped') },
        handoff: dur(c, 'handoff'),
      },
      fail_by: { worker: n(c, 'fail_by_worker'), gateway: n(c, 'fail_by_gateway') },
    },
  };
}

/** Outlet's datatypes as Triton's model configuration names them. */
const TRITON_TYPES: Record<string, string> = { FP32: 'TYPE_FP32' };

/**
 * Triton's model configuration for a package, as HTTP's /config and gRPC's ModelConfig answer it:
 * the field and enum names are those of Triton's `inference.ModelConfig` (Triton's HTTP config is
 * that message in protobuf's JSON form), so gRPC sends this object as it is. Outlet serves one sample per request, with the
 * batch dimension first (-1 in the manifest): max_batch_size is 1 and `dims` leave the batch
 * dimension out, as Triton does for a batching model. tritonclient and perf_analyzer then prepend
 * the batch size (1) themselves and need no `--shape`; with max_batch_size 0 the dims would have to
 * carry the -1 and perf_analyzer would refuse the dynamic dimension without `--shape`.
 */
export function toTritonModelConfig(m: Manifest, defaultPlan: string): TritonModelConfig {
  const batching = m.input.shape[0] === -1 && m.output.shape[0] === -1;
  const tensor = (t: Manifest['input'], format?: string): TritonTensorConfig => ({
    name: t.name,
    data_type: TRITON_TYPES[t.datatype] ?? `TYPE_${t.datatype}`,
    ...(format ? { format } : {}),
    dims: batching ? t.shape.slice(1) : t.shape,
  });
  const version = Number(m.version);
  return {
    name: m.name,
    platform: MODEL_PLATFORM,
    backend: 'outlet',
    max_batch_size: batching ? 1 : 0,
    input: [tensor(m.input, 'FORMAT_NONE')],
    output: [tensor(m.output)],
    version_policy: Number.isInteger(version) ? { specific: { versions: [version] } } : { latest: { num_versions: 1 } },
    instance_group: [{ name: m.name, kind: 'KIND_MODEL', count: 1 }],
    parameters: {
      exit_count: { string_value: String(m.exits.length) },
      exits: { string_value: JSON.stringify(m.exits.map((e, i) => ({ exit_index: i, after_segment: e.after_segment, threshold: e.threshold }))) },
      exit_thresholds: { string_value: m.exits.map((e) => e.threshold).join(',') },
      segment_count: { string_value: String(m.segments.length) },
      default_plan: { string_value: defaultPlan },
      labels: { string_value: (m.labels ?? []).join(',') },
    },
  };
}
