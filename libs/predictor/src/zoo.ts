import { OnnxWriter, seededRandom } from '@outlet/onnx-cost';

/**
 * The predictor's zoo: small ONNX models of varied conv / pool / fully-connected blocks, written
 * with the ONNX writer from a seed, whose FLOP targets spread log-uniformly over 0.05 to 10000
 * MFLOP (the caps on weights and activations keep some families smaller). Families: conv stacks (kernel 1/3/5, stride 1/2, dilation,
 * grouped and depthwise convs), conv+pool, pooling alone, element-wise, fully-connected heads
 * (Flatten→Gemm→Relu→Gemm→Softmax), MatMul blocks, and conv/global-pool heads.
 */
export interface ZooModel {
  id: string;
  family: string;
  description: string;
  bytes: Uint8Array;
}

/** Caps that keep every zoo model cheap to write, hold and run: weights and activations. */
const MAX_PARAMS = 2_000_000;
const MAX_ELEMENTS = 2_000_000;

export const ZOO_FAMILIES = ['conv', 'conv-pool', 'pool', 'eltwise', 'fc', 'matmul', 'head'] as const;

export interface ZooOptions {
  count: number;
  seed: number;
  minMflop?: number;
  maxMflop?: number;
}

export function generateZoo(options: ZooOptions): ZooModel[] {
  const { count, seed, minMflop = 0.05, maxMflop = 10000 } = options;
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const clampInt = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(Math.floor(hi), Math.round(v)));
  const models: ZooModel[] = [];
  for (let i = 0; i < count; i++) {
    // Families in turn (so each is represented), target FLOPs log-uniform.
    const family = ZOO_FAMILIES[i % ZOO_FAMILIES.length];
    const target = Math.exp(Math.log(minMflop) + rand() * (Math.log(maxMflop) - Math.log(minMflop))) * 1e6;
    const w = new OnnxWriter({ seed: seed * 1000 + i });
    let desc = '';
    let y: string;
    switch (family) {
      case 'conv': {
        const hw = pick([7, 14, 28, 56]);
        const k = pick([1, 3, 3, 5]);
        const stride = pick([1, 1, 2]);
        const dilation = k > 1 && rand() < 0.2 ? 2 : 1;
        const layers = pick([1, 1, 2, 3]);
        const out = Math.ceil(hw / stride);
        const depthwise = k > 1 && rand() < 0.2;
        // FLOPs ≈ 2·out²·(Cin/g)·k²·Cout per layer: pick channels around the target's square root.
        const square = Math.sqrt(target / layers / (2 * out * out * k * k));
        let cin = rand() < 0.2 ? pick([1, 3]) : clampInt(square * Math.pow(2, rand() * 2 - 1), 2, 512);
        let cout = clampInt(target / layers / (2 * out * out * cin * k * k), 2, 512);
        if (depthwise) {
          cin = clampInt(target / layers / (2 * out * out * k * k), 2, 1024);
          cout = cin;
        }
        y = w.input('input', [-1, cin, hw, hw]);
        for (let l = 0; l < layers; l++) {
          const group = depthwise ? cin : 1;
          const lin = l === 0 ? cin : cout;
          y = w.relu(w.conv(y, { outChannels: depthwise ? lin : cout, kernel: k, stride: l === 0 ? stride : 1, pad: 'same', dilation, group }));
        }
        desc = `${layers}× conv ${cin}→${cout} k${k} s${stride} d${dilation}${depthwise ? ' depthwise' : ''} @${hw}`;
        break;
      }
      case 'conv-pool': {
        const hw = pick([14, 28, 56]);
        const k = pick([3, 5]);
        const cin = clampInt(Math.sqrt(target / (2 * hw * hw * k * k)) * Math.pow(2, rand() * 2 - 1), 1, 256);
        const cout = clampInt(target / (2 * hw * hw * cin * k * k), 2, 512);
        const pool = pick(['max', 'avg'] as const);
        const pk = pick([2, 3]);
        y = w.input('input', [-1, cin, hw, hw]);
        y = w.relu(w.conv(y, { outChannels: cout, kernel: k, pad: Math.floor(k / 2) }));
        y = pool === 'max' ? w.maxPool(y, { kernel: pk, stride: 2 }) : w.averagePool(y, { kernel: pk, stride: 2 });
        desc = `conv ${cin}→${cout} k${k} @${hw} + ${pool}pool k${pk}`;
        break;
      }
      case 'pool': {
        const hw = pick([28, 56, 112]);
        const pk = pick([2, 3, 5]);
        const stride = pick([1, 2]);
        const c = clampInt(target / (Math.pow(hw / stride, 2) * pk * pk), 1, MAX_ELEMENTS / (hw * hw));
        const pool = pick(['max', 'avg'] as const);
        y = w.input('input', [-1, c, hw, hw]);
        y = pool === 'max' ? w.maxPool(y, { kernel: pk, stride }) : w.averagePool(y, { kernel: pk, stride });
        if (rand() < 0.5) y = w.globalAveragePool(y);
        desc = `${pool}pool k${pk} s${stride} on ${c}×${hw}²`;
        break;
      }
      case 'eltwise': {
        const hw = pick([14, 28, 56, 112]);
        // add 1 + relu 1 + sigmoid 4 FLOPs per element
        const c = clampInt(target / (6 * hw * hw), 1, MAX_ELEMENTS / (hw * hw));
        y = w.input('input', [-1, c, hw, hw]);
        const bias = w.randomWeights('bias', [c, 1, 1], 1);
        y = w.relu(w.add(y, bias));
        y = w.node('Sigmoid', [y])[0];
        desc = `add+relu+sigmoid on ${c}×${hw}²`;
        break;
      }
      case 'fc': {
        const fin = clampInt(Math.exp(Math.log(64) + rand() * Math.log(16384 / 64)), 16, 32768);
        const hidden = clampInt(target / (2 * fin), 8, MAX_PARAMS / fin);
        const classes = pick([10, 100, 1000]);
        const c = pick([1, 4, 16].filter((d) => fin % d === 0));
        const side = Math.sqrt(fin / c);
        y = Number.isInteger(side) ? w.flatten(w.input('input', [-1, c, side, side])) : w.input('input', [-1, fin]);
        y = w.relu(w.gemm(y, hidden));
        y = w.softmax(w.gemm(y, classes));
        desc = `fc ${fin}→${hidden}→${classes}`;
        break;
      }
      case 'matmul': {
        const rows = pick([1, 8, 32, 128]);
        const k = pick([64, 128, 256, 512, 1024]);
        const n = clampInt(target / (2 * rows * k), 4, MAX_PARAMS / k);
        y = w.input('input', [1, rows, k]);
        y = w.relu(w.matmul(y, n));
        desc = `matmul [${rows},${k}]×[${k},${n}] + relu`;
        break;
      }
      default: {
        // An exit-head-like block.
        const hw = pick([3, 7, 14, 28]);
        const cin = pick([8, 16, 32, 64, 128]);
        const classes = pick([10, 100]);
        if (rand() < 0.5) {
          const cout = clampInt(target / (2 * hw * hw * cin * 9), 4, 1024);
          y = w.input('input', [-1, cin, hw, hw]);
          y = w.relu(w.conv(y, { outChannels: cout, kernel: 3, pad: 1 }));
          y = w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), classes));
          desc = `head conv ${cin}→${cout} k3 @${hw} + gap + fc→${classes}`;
        } else {
          const pooled = hw >= 14 ? (cin * hw * hw) / 4 : cin * hw * hw;
          const hidden = clampInt(target / (2 * pooled), 8, MAX_PARAMS / pooled);
          y = w.input('input', [-1, cin, hw, hw]);
          y = w.relu(w.gemm(w.flatten(w.maxPool(y, { kernel: hw >= 14 ? 2 : 1 })), hidden));
          y = w.softmax(w.gemm(y, classes));
          desc = `head maxpool + fc ${cin}×${hw}²→${hidden}→${classes}`;
        }
      }
    }
    w.output(y);
    models.push({ id: `zoo-${String(i).padStart(3, '0')}`, family, description: desc, bytes: w.encode() });
  }
  return models;
}

/** A fixed-seed split into fit and held-out ids (Fisher–Yates shuffle). */
export function splitIds(ids: string[], holdoutShare: number, seed: number): { fit: Set<string>; holdout: Set<string> } {
  const rand = seededRandom(seed ^ 0x9e3779b9);
  const order = [...ids];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nHold = Math.round(order.length * holdoutShare);
  return { holdout: new Set(order.slice(0, nHold)), fit: new Set(order.slice(nHold)) };
}
