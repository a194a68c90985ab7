import { OnnxWriter, seededRandom } from '@outlet/onnx-cost';

/**
 * Models for the kernel-level predictor, written with the ONNX writer:
 * - the training set: single blocks of the kinds real edge models are built of — ResNet basic
 *   blocks (conv-BN-ReLU, conv-BN, shortcut, add, ReLU), VGG stages (conv-ReLU ×1-2 + max pool),
 *   MobileNet depthwise-separable blocks (depthwise 3×3-BN-ReLU6, pointwise 1×1-BN-ReLU), pooling,
 *   fully-connected heads — with widths, resolutions and strides sampled over the ranges those
 *   models use (1–256 channels, 3–112 pixels), so that onnxruntime's fusions happen as in the real
 *   networks;
 * - real-architecture stacks for evaluation, never seen by a fit: a ResNet basic-block stack, a
 *   VGG stack, a MobileNet depthwise-separable stack and an MLP at several widths and resolutions.
 */
export interface BlockModel {
  id: string;
  family: string;
  description: string;
  bytes: Uint8Array;
}

export const BLOCK_FAMILIES = ['resnet', 'vgg', 'mobilenet', 'pool', 'fc'] as const;
export type BlockFamily = (typeof BLOCK_FAMILIES)[number];

/** BatchNormalization with random statistics (onnxruntime folds it into the preceding Conv). */
export function batchNorm(w: OnnxWriter, x: string): string {
  const c = w.shape(x)[1];
  const scale = w.initializer(`${x}.bn.scale`, [c], Array.from({ length: c }, (_, i) => 0.8 + 0.4 * ((i * 7919) % 97) / 97));
  const bias = w.initializer(`${x}.bn.bias`, [c], Array.from({ length: c }, (_, i) => 0.1 * (((i * 104729) % 13) / 13 - 0.5)));
  const mean = w.initializer(`${x}.bn.mean`, [c], new Array(c).fill(0.01));
  const variance = w.initializer(`${x}.bn.var`, [c], new Array(c).fill(1));
  return w.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: 1e-5 } })[0];
}

/** ReLU6 (Clip 0..6, opset 13: bounds as inputs). */
export function relu6(w: OnnxWriter, x: string): string {
  const lo = w.initializer(`${x}.clip.min`, [], [0]);
  const hi = w.initializer(`${x}.clip.max`, [], [6]);
  return w.node('Clip', [x, lo, hi])[0];
}

export function resnetBlock(w: OnnxWriter, x: string, cout: number, stride: number): string {
  const cin = w.shape(x)[1];
  let y = w.relu(batchNorm(w, w.conv(x, { outChannels: cout, kernel: 3, stride, pad: 1, bias: false })));
  y = batchNorm(w, w.conv(y, { outChannels: cout, kernel: 3, pad: 1, bias: false }));
  const shortcut = stride === 1 && cin === cout ? x : batchNorm(w, w.conv(x, { outChannels: cout, kernel: 1, stride, pad: 0, bias: false }));
  return w.relu(w.add(y, shortcut));
}

export function vggStage(w: OnnxWriter, x: string, cout: number, convs: number, pool = true): string {
  let y = x;
  for (let i = 0; i < convs; i++) y = w.relu(w.conv(y, { outChannels: cout, kernel: 3, pad: 1 }));
  return pool ? w.maxPool(y, { kernel: 2, stride: 2 }) : y;
}

export function mobilenetBlock(w: OnnxWriter, x: string, cout: number, stride: number): string {
  const cin = w.shape(x)[1];
  const y = relu6(w, batchNorm(w, w.conv(x, { outChannels: cin, kernel: 3, stride, pad: 1, group: cin, bias: false })));
  return relu6(w, batchNorm(w, w.conv(y, { outChannels: cout, kernel: 1, pad: 0, bias: false })));
}

// From the 1-channel input and 3×3 features of small digit models to ResNet/VGG/MobileNet widths.
const WIDTHS = [1, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const RESOLUTIONS = [3, 7, 14, 28, 56, 112];
/** Keep every training block cheap: at most this many activations per tensor and MFLOP per block. */
const MAX_ELEMENTS = 1_600_000;
const MAX_MFLOP = 1200;

export interface BlockOptions {
  count: number;
  seed: number;
  /** Weights per family (uniform by default): adaptive refinement samples more where error is largest. */
  familyWeights?: Partial<Record<BlockFamily, number>>;
  /** Id prefix ('blk' by default). */
  prefix?: string;
  /** Follow a convolutional block with 0-3 more and sometimes a pooling + FC head (true by default). */
  chain?: boolean;
}

/** The training set: `count` single-block models sampled over the ranges above. */
export function generateBlocks(options: BlockOptions): BlockModel[] {
  const { count, seed, prefix = 'blk', chain = true } = options;
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const weights = BLOCK_FAMILIES.map((f) => options.familyWeights?.[f] ?? 1);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const pickFamily = (i: number): BlockFamily => {
    if (!options.familyWeights) return BLOCK_FAMILIES[i % BLOCK_FAMILIES.length];
    let r = rand() * wsum;
    for (let f = 0; f < BLOCK_FAMILIES.length; f++) if ((r -= weights[f]) < 0) return BLOCK_FAMILIES[f];
    return BLOCK_FAMILIES[BLOCK_FAMILIES.length - 1];
  };
  const models: BlockModel[] = [];
  let attempts = 0;
  while (models.length < count && attempts < count * 50) {
    attempts += 1;
    const family = pickFamily(models.length);
    const hw = pick(RESOLUTIONS);
    const cin = pick(WIDTHS);
    const stride = pick([1, 1, 2]);
    const cout = pick(WIDTHS);
    const w = new OnnxWriter({ seed: seed * 7919 + attempts });
    let y: string;
    let desc: string;
    let mflop = 0;
    const outHw = Math.ceil(hw / stride);
    switch (family) {
      case 'resnet': {
        const c2 = rand() < 0.5 ? cin : cout;
        mflop = (2 * outHw * outHw * 9 * c2 * (cin + c2)) / 1e6;
        if (Math.max(cin, c2) * hw * hw > MAX_ELEMENTS || mflop > MAX_MFLOP) continue;
        y = resnetBlock(w, w.input('input', [-1, cin, hw, hw]), c2, stride);
        desc = `resnet block ${cin}→${c2} s${stride} @${hw}`;
        break;
      }
      case 'vgg': {
        const convs = pick([1, 2]);
        mflop = (2 * hw * hw * 9 * cout * (cin + (convs - 1) * cout)) / 1e6;
        if (Math.max(cin, cout) * hw * hw > MAX_ELEMENTS || mflop > MAX_MFLOP || hw < 2) continue;
        y = vggStage(w, w.input('input', [-1, cin, hw, hw]), cout, convs, rand() < 0.7);
        desc = `vgg ${convs}× conv ${cin}→${cout} @${hw}`;
        break;
      }
      case 'mobilenet': {
        const c = pick([...WIDTHS, 384, 512]);
        mflop = (2 * outHw * outHw * c * (9 + cout)) / 1e6;
        if (c * hw * hw > MAX_ELEMENTS || mflop > MAX_MFLOP) continue;
        y = mobilenetBlock(w, w.input('input', [-1, c, hw, hw]), cout, stride);
        desc = `mobilenet dw-sep ${c}→${cout} s${stride} @${hw}`;
        break;
      }
      case 'pool': {
        const k = pick([2, 3]);
        const s = pick([1, 2]);
        if (cin * hw * hw > MAX_ELEMENTS || hw < k) continue;
        y = w.input('input', [-1, cin, hw, hw]);
        const kind = pick(['max', 'avg', 'gap'] as const);
        y = kind === 'max' ? w.maxPool(y, { kernel: k, stride: s }) : kind === 'avg' ? w.averagePool(y, { kernel: k, stride: s }) : w.globalAveragePool(y);
        desc = kind === 'gap' ? `global avgpool ${cin}×${hw}²` : `${kind}pool k${k} s${s} ${cin}×${hw}²`;
        break;
      }
      default: {
        const fin = pick([16, 64, 128, 256, 512, 784, 1024, 2048, 4096]);
        const hidden = pick([10, 16, 32, 64, 128, 256, 512, 1024]);
        if (fin * hidden > 2_000_000) continue;
        y = w.input('input', [-1, fin]);
        y = w.relu(w.gemm(y, hidden));
        if (rand() < 0.6) y = w.softmax(w.gemm(y, pick([10, 100, 1000])));
        desc = `fc ${fin}→${hidden}`;
      }
    }
    if (family === 'resnet' || family === 'vgg' || family === 'mobilenet') {
      // Kernels are timed where real networks run them: after other blocks (activations in the
      // blocked layout, caches warm from the previous kernel) and before a head, not alone.
      const more = chain ? Math.floor(rand() * 4) : 0;
      for (let b = 0; b < more; b++) {
        const [, c, h] = w.shape(y);
        const next = pick(['resnet', 'vgg', 'mobilenet'] as const);
        const co = pick(WIDTHS.slice(1));
        const st = h >= 4 ? pick([1, 1, 2]) : 1;
        const oh = Math.ceil(h / st);
        const cost = next === 'mobilenet' ? (2 * oh * oh * c * (9 + co)) / 1e6 : (2 * oh * oh * 9 * co * (c + co)) / 1e6;
        if (mflop + cost > MAX_MFLOP || Math.max(c, co) * h * h > MAX_ELEMENTS) break;
        mflop += cost;
        y = next === 'resnet' ? resnetBlock(w, y, co, st) : next === 'mobilenet' ? mobilenetBlock(w, y, co, st) : vggStage(w, y, co, 1, h >= 4 && rand() < 0.5);
        desc += ` + ${next} →${co}${st > 1 ? ' s2' : ''}`;
      }
      if (chain && rand() < 0.3) {
        y = w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
        desc += ' + head';
      }
    }
    w.output(y);
    models.push({ id: `${prefix}-${String(models.length).padStart(3, '0')}`, family, description: desc, bytes: w.encode() });
  }
  return models;
}

/** An MLP of one row: `fin` inputs, Gemm + Relu per hidden width, a Gemm to 10 classes and a Softmax. */
function mlp(w: OnnxWriter, fin: number, hidden: readonly number[]) {
  let y = w.input('input', [-1, fin]);
  for (const h of hidden) y = w.relu(w.gemm(y, h));
  return w.softmax(w.gemm(y, 10));
}

/**
 * MLPs of one row whose weights climb from 0.5 to 96 MB: a gemm of one row reads each weight once,
 * so it runs as fast as the cache level its model's weights fit in, and where that edge lies (the
 * caches, the thread count) is the machine's own. `outlet predictor adapt` measures them beside
 * the blocks.
 */
export function generateWeightLadder(prefix = 'mlp'): BlockModel[] {
  const shapes: [number, number[]][] = [
    [512, [256]], [640, [512]], [1000, [500]], [800, [800, 400]], [1500, [700]], [1800, [800]],
    [1200, [1000, 300]], [2000, [1000]], [2500, [1000]], [1000, [1500, 1000]], [3300, [1000]], [2000, [1500, 800]],
    [2048, [2048, 1024]], [2048, [2048, 2048]], [3072, [3072, 1024]], [4096, [4096, 2048]],
  ];
  return shapes.map(([fin, hidden], i) => {
    const w = new OnnxWriter({ seed: 7000 + i });
    w.output(mlp(w, fin, hidden));
    const mb = ((hidden.reduce((s, h, j) => s + (j ? hidden[j - 1] : fin) * h, 0) + hidden[hidden.length - 1] * 10) * 4) / 2 ** 20;
    return { id: `${prefix}-${String(i).padStart(2, '0')}`, family: 'fc', description: `mlp ${[fin, ...hidden, 10].join('→')} (${mb.toFixed(1)} MB of weights)`, bytes: w.encode() };
  });
}

/** Models defined one after another, each by its own writer seeded with `seed` + its index. */
function seededModels(seed: number, define: (add: (id: string, family: string, description: string, build: (w: OnnxWriter) => string) => void) => void): BlockModel[] {
  const out: BlockModel[] = [];
  define((id, family, description, build) => {
    const w = new OnnxWriter({ seed: out.length + seed });
    w.output(build(w));
    out.push({ id, family, description, bytes: w.encode() });
  });
  return out;
}

/** Real-architecture stacks (never in a training set): several widths and resolutions each. */
export function generateArchitectures(): BlockModel[] {
  return seededModels(101, (add) => {
    for (const [width, res] of [[16, 56], [32, 56], [32, 32], [64, 28], [24, 112]] as const) {
      add(`resnet-w${width}-r${res}`, 'resnet', `ResNet basic-block stack: stem conv ${width} @${res}, 2 stages × 2 blocks, gap, fc 10`, (w) => {
        let y = w.relu(batchNorm(w, w.conv(w.input('input', [-1, 3, res, res]), { outChannels: width, kernel: 3, pad: 1, bias: false })));
        y = resnetBlock(w, y, width, 1);
        y = resnetBlock(w, y, width, 1);
        y = resnetBlock(w, y, width * 2, 2);
        y = resnetBlock(w, y, width * 2, 1);
        return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
      });
    }
    for (const [width, res] of [[16, 64], [32, 32], [32, 64], [48, 32]] as const) {
      add(`vgg-w${width}-r${res}`, 'vgg', `VGG stack: 3 stages (${width}, ${2 * width}, ${4 * width}) × 2 convs + max pool @${res}, fc 10`, (w) => {
        let y = w.input('input', [-1, 3, res, res]);
        y = vggStage(w, y, width, 2);
        y = vggStage(w, y, width * 2, 2);
        y = vggStage(w, y, width * 4, 2);
        return w.softmax(w.gemm(w.flatten(y), 10));
      });
    }
    for (const [width, res] of [[16, 112], [32, 56], [32, 112], [64, 28]] as const) {
      add(`mobilenet-w${width}-r${res}`, 'mobilenet', `MobileNet stack: stem conv s2, 5 depthwise-separable blocks from ${width} @${res}, gap, fc 10`, (w) => {
        let y = relu6(w, batchNorm(w, w.conv(w.input('input', [-1, 3, res, res]), { outChannels: width, kernel: 3, stride: 2, pad: 1, bias: false })));
        y = mobilenetBlock(w, y, width * 2, 1);
        y = mobilenetBlock(w, y, width * 2, 2);
        y = mobilenetBlock(w, y, width * 4, 1);
        y = mobilenetBlock(w, y, width * 4, 2);
        y = mobilenetBlock(w, y, width * 8, 1);
        return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
      });
    }
    for (const [fin, hidden] of [[784, 256], [784, 1024], [3072, 512]] as const) {
      add(`mlp-${fin}-${hidden}`, 'mlp', `MLP ${fin}→${hidden}→${hidden}→10`, (w) => {
        return mlp(w, fin, [hidden, hidden]);
      });
    }
  });
}

/**
 * Larger stacks than generateArchitectures', of the kind a node serves (0.1-10 ms at 1 thread on
 * the 2-core Xeon here): ResNet, VGG and MobileNet at 64-160 px and two MLPs. No fit, adapt block
 * or `--evaluate` holds them: scripts/predict-larger-architectures.js scores predictors on them.
 */
export function generateLargerArchitectures(): BlockModel[] {
  return seededModels(501, (add) => {
    for (const [width, res] of [[32, 96], [16, 160], [64, 64]] as const) {
      add(`resnet-w${width}-r${res}`, 'resnet', `ResNet basic-block stack: stem conv ${width} @${res}, 3 blocks (×1, ×2 s2, ×4 s2), gap, fc 10`, (w) => {
        let y = w.relu(batchNorm(w, w.conv(w.input('input', [-1, 3, res, res]), { outChannels: width, kernel: 3, pad: 1, bias: false })));
        y = resnetBlock(w, y, width, 1);
        y = resnetBlock(w, y, width * 2, 2);
        y = resnetBlock(w, y, width * 4, 2);
        return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
      });
    }
    for (const [width, res] of [[16, 128], [32, 96], [24, 160]] as const) {
      add(`vgg-w${width}-r${res}`, 'vgg', `VGG stack: 3 stages (${width}, ${2 * width}, ${4 * width}) × 2 convs + max pool @${res}, gap, fc 10`, (w) => {
        let y = w.input('input', [-1, 3, res, res]);
        for (const c of [width, width * 2, width * 4]) y = vggStage(w, y, c, 2);
        return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
      });
    }
    for (const [width, res] of [[32, 160], [24, 128], [48, 64]] as const) {
      add(`mobilenet-w${width}-r${res}`, 'mobilenet', `MobileNet stack: stem conv s2, 4 depthwise-separable blocks from ${width} @${res}, gap, fc 10`, (w) => {
        let y = relu6(w, batchNorm(w, w.conv(w.input('input', [-1, 3, res, res]), { outChannels: width, kernel: 3, stride: 2, pad: 1, bias: false })));
        for (const [c, s] of [[2, 1], [2, 2], [4, 1], [4, 2]] as const) y = mobilenetBlock(w, y, width * c, s);
        return w.softmax(w.gemm(w.flatten(w.globalAveragePool(y)), 10));
      });
    }
    for (const [fin, hidden] of [[1024, 2048], [2048, 512]] as const) {
      add(`mlp-${fin}-${hidden}`, 'mlp', `MLP ${fin}→${hidden}→${hidden}→10`, (w) => mlp(w, fin, [hidden, hidden]));
    }
  });
}
