import { analyzeModel, ModelCost } from '@outlet/onnx-cost';

/**
 * Cost features of one model file (a segment or an exit head), the predictor's regressors:
 * a per-call constant, FLOPs by layer type (MFLOP; a multiply-accumulate counts 2), bytes moved
 * (MB) and the number of operators launched (per-op overhead).
 */
export const FEATURE_NAMES = ['call', 'conv_mflop', 'fc_mflop', 'pool_mflop', 'other_mflop', 'mbytes', 'ops'] as const;

export function featuresOf(cost: ModelCost): number[] {
  const c = cost.byCategory;
  const other = cost.flops - c.conv.flops - c.fc.flops - c.pool.flops;
  return [1, c.conv.flops / 1e6, c.fc.flops / 1e6, c.pool.flops / 1e6, other / 1e6, cost.bytes / 1e6, cost.opCount];
}

/** Features of an ONNX file or its bytes; throws if some op's cost is unknown (it would be counted as 0). */
export function featuresOfModel(source: string | Uint8Array): { features: number[]; cost: ModelCost } {
  const cost = analyzeModel(source);
  if (cost.unresolved.length) {
    const what = cost.unknownOps.length ? `unknown op types ${cost.unknownOps.join(', ')}` : cost.unresolved.map((u) => `${u.node}: ${u.problem}`).join('; ');
    throw new Error(`cannot cost every node (${what})`);
  }
  return { features: featuresOf(cost), cost };
}
