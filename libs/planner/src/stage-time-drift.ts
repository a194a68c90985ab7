import { StageTimesMs } from './stage-times';

/** A stage whose observed times left the bound: its median observed / expected ratio over the window. */
export interface StageDrift {
  stage: number;
  ratio: number;
  samples: number;
}

/**
 * What a node observes of its own stage times against what its plans assumed, per trunk segment
 * (with its fused head when it ran one): the ratio observed / expected at the CPU load of the
 * moment, over a sliding window. A median, so a few slow runs (a page fault, a GC) move nothing.
 */
export class StageTimeDrift {
  private readonly ratios = new Map<number, number[]>();

  constructor(
    private readonly window = 50,
    private readonly minSamples = 20,
  ) {}

  record(stage: number, observedMs: number, expectedMs: number): void {
    if (!(observedMs > 0) || !(expectedMs > 0)) return;
    let list = this.ratios.get(stage);
    if (!list) this.ratios.set(stage, (list = []));
    list.push(observedMs / expectedMs);
    if (list.length > this.window) list.shift();
  }

  /** Stages with at least minSamples whose median ratio is above `bound` or below 1 / `bound`. */
  beyond(bound: number): StageDrift[] {
    const out: StageDrift[] = [];
    for (const [stage, list] of this.ratios) {
      if (list.length < this.minSamples) continue;
      const sorted = [...list].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const ratio = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      if (ratio > bound || ratio < 1 / bound) out.push({ stage, ratio, samples: list.length });
    }
    return out.sort((a, b) => a.stage - b.stage);
  }

  clear(): void {
    this.ratios.clear();
  }
}

/**
 * Stage times with each trunk segment (and the fused head that runs with it) scaled by what the
 * node observed; heads on the branch worker are left as they are.
 */
export function scaleSegments(times: StageTimesMs, segmentScales: readonly number[], exitAfterSegment: readonly number[]): StageTimesMs {
  const scale = (s: number) => segmentScales[s] ?? 1;
  return {
    ...times,
    segments: times.segments.map((ms, s) => ms * scale(s)),
    trunkHeads: times.trunkHeads.map((ms, i) => ms * scale(exitAfterSegment[i])),
    ...(times.fusedHeads && { fusedHeads: times.fusedHeads.map((ms, i) => ms * scale(exitAfterSegment[i])) }),
  };
}
