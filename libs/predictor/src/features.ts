import { analyzeModel, ModelCost, numel } from '@outlet/onnx-cost';

/**
 * Cost features of one model file (a segment or an exit head), summed over its nodes: the
 * predictor's regressors. FLOPs count a multiply-accumulate as 2 (see @outlet/onnx-cost).
 *
 * - call: 1 (the fixed cost of one session.run)
 * - ops: operators launched (every node but Constant)
 * - conv_mflop: convolution MFLOP (all groups)
 * - conv_dw_mflop: the part of conv_mflop in grouped / depthwise convolutions (memory-bound,
 *   far slower per FLOP in onnxruntime than dense convolutions)
 * - conv_im2col_melem: Σ Hout·Wout·(Cin/group)·kh·kw over convolutions, in millions: the
 *   unrolled input each convolution reads; it carries the cost of convolutions with few
 *   output channels, where FLOPs alone under-predict
 * - fc_mflop: Gemm / MatMul MFLOP
 * - fc_weight_mb: MB of fully-connected weights (at batch 1 a Gemm streams its weights once)
 * - pool_mflop: pooling window MFLOP; pool_in_mb: MB pooling layers read
 * - other_mflop: every other FLOP (activations, element-wise, softmax, normalization...)
 * - mbytes: MB moved by all nodes (inputs, weights, outputs)
 * - spill_mb: MB beyond the first 1 MB per node (tensors that leave the core's cache)
 */
export const ALL_FEATURES = [
  'call', 'ops', 'conv_mflop', 'conv_dw_mflop', 'conv_im2col_melem', 'fc_mflop', 'fc_weight_mb',
  'pool_mflop', 'pool_in_mb', 'other_mflop', 'mbytes', 'spill_mb',
] as const;
export type FeatureName = (typeof ALL_FEATURES)[number];

export const FEATURE_SETS: Record<string, readonly FeatureName[]> = {
  /** The suggestion: [1, conv FLOPs, fc FLOPs, pool FLOPs, other FLOPs, bytes, op count]. */
  basic: ['call', 'conv_mflop', 'fc_mflop', 'pool_mflop', 'other_mflop', 'mbytes', 'ops'],
  /** The default: basic plus depthwise, im2col, fc weight, pool input and cache-spill terms. */
  extended: ALL_FEATURES,
};
export const DEFAULT_FEATURE_SET = 'extended';
/** The default feature set's names. */
export const FEATURE_NAMES: readonly FeatureName[] = FEATURE_SETS[DEFAULT_FEATURE_SET];

const CACHE_BYTES = 1e6;

/** Every named feature of a costed model. */
export function namedFeatures(cost: ModelCost): Record<FeatureName, number> {
  const f = Object.fromEntries(ALL_FEATURES.map((k) => [k, 0])) as Record<FeatureName, number>;
  f.call = 1;
  f.ops = cost.opCount;
  f.mbytes = cost.bytes / 1e6;
  for (const n of cost.nodes) {
    const mflop = n.flops / 1e6;
    if (n.bytes > CACHE_BYTES) f.spill_mb += (n.bytes - CACHE_BYTES) / 1e6;
    switch (n.category) {
      case 'conv': {
        f.conv_mflop += mflop;
        const [x, w] = n.inputShapes;
        const out = n.outputShapes[0];
        if (x && w && out && n.opType === 'Conv') {
          if (x[1] !== w[1]) f.conv_dw_mflop += mflop;
          f.conv_im2col_melem += (numel(out) / out[1]) * numel(w.slice(1)) / 1e6;
        }
        break;
      }
      case 'fc':
        f.fc_mflop += mflop;
        f.fc_weight_mb += n.inputShapes.slice(1).reduce((s, shape) => s + (shape ? numel(shape) * 4 : 0), 0) / 1e6;
        break;
      case 'pool':
        f.pool_mflop += mflop;
        f.pool_in_mb += (n.inputShapes[0] ? numel(n.inputShapes[0]) * 4 : 0) / 1e6;
        break;
      default:
        f.other_mflop += mflop;
    }
  }
  return f;
}

/** The vector of `names` from named features. */
export function featureVector(named: Record<string, number>, names: readonly string[]): number[] {
  return names.map((k) => {
    const v = named[k];
    if (typeof v !== 'number') throw new Error(`unknown feature '${k}'`);
    return v;
  });
}

/** The default feature vector of a costed model. */
export function featuresOf(cost: ModelCost, names: readonly string[] = FEATURE_NAMES): number[] {
  return featureVector(namedFeatures(cost), names);
}

/** Features of an ONNX file or its bytes; throws if some op's cost is unknown (it would be counted as 0). */
export function featuresOfModel(
  source: string | Uint8Array,
  names: readonly string[] = FEATURE_NAMES,
): { features: number[]; named: Record<FeatureName, number>; cost: ModelCost } {
  const cost = analyzeModel(source);
  if (cost.unresolved.length) {
    const what = cost.unknownOps.length ? `unknown op types ${cost.unknownOps.join(', ')}` : cost.unresolved.map((u) => `${u.node}: ${u.problem}`).join('; ');
    throw new Error(`cannot cost every node (${what})`);
  }
  const named = namedFeatures(cost);
  return { features: featureVector(named, names), named, cost };
}
