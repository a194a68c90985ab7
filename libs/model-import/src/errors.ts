import type { VerificationReport } from './verify';

/**
 * The graph cannot be split as asked. `crossing` names the tensors at fault (those a head or a
 * later segment would need besides the one tensor a piece may read; empty when the problem is not
 * about crossing tensors), `nearestCut` the nearest trunk tensor that would work, when there is one.
 */
export class SplitError extends Error {
  crossing: string[];
  nearestCut?: string;

  constructor(message: string, crossing: string[] = [], nearestCut?: string) {
    super(message);
    this.name = 'SplitError';
    this.crossing = crossing;
    this.nearestCut = nearestCut;
  }
}

/** The pieces do not reproduce the original model's exits within the tolerance. */
export class VerificationError extends Error {
  report: VerificationReport;

  constructor(message: string, report: VerificationReport) {
    super(message);
    this.name = 'VerificationError';
    this.report = report;
  }
}
