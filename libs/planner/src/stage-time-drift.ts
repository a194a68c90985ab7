import { StageTimesMs } from './stage-times';

/** A stage (a segment index, or an exit index for heads) whose observed times left the bound: its median observed / expected ratio over the window. */
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

/** What a node observed, per trunk segment and per branch head: factors on the stage times its plans assumed. */
export interface ObservedScales {
  segments?: readonly number[];
  branchHeads?: readonly number[];
}

/**
 * Stage times scaled by what the node observed: each trunk segment with the inline and fused
 * heads that run with it, and each head on the branch worker.
 */
export function scaleStageTimes(times: StageTimesMs, scales: ObservedScales, exitAfterSegment: readonly number[]): StageTimesMs {
  const segment = (s: number) => scales.segments?.[s] ?? 1;
  return {
    segments: times.segments.map((ms, s) => ms * segment(s)),
    trunkHeads: times.trunkHeads.map((ms, i) => ms * segment(exitAfterSegment[i])),
    branchHeads: times.branchHeads.map((ms, i) => ms * (scales.branchHeads?.[i] ?? 1)),
    ...(times.fusedHeads && { fusedHeads: times.fusedHeads.map((ms, i) => ms * segment(exitAfterSegment[i])) }),
  };
}
