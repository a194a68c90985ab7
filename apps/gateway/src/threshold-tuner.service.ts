import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { DEFAULT_THRESHOLD_GRID } from '@outlet/planner';
import { ThresholdChange } from '@outlet/contracts';
import { GatewaySettings } from '@outlet/config';
import { ModelPackage } from '@outlet/model-package';
import { stageTimes } from '@outlet/predictor';
import { InjectRedis, ThresholdStore } from '@outlet/transport';
import { TunerOptions, defaultTunerOptions, tune } from '@outlet/adaptation';
import { ModelCatalog } from './model-catalog.service';
import { GATEWAY_SETTINGS } from './tokens';

/** How often the tuner looks at new audit records (a round costs a few ms, and only when new ones came). */
export const TUNE_EVERY_MS = 250;
/** The tuner's lease: another gateway takes over this long after the holder stops renewing it. */
const LEASE_MS = 20 * TUNE_EVERY_MS;

/**
 * The expected latency of a task answered at each exit (ms): the trunk's segments up to it and
 * the heads evaluated on the way, inline, from the package's profiled stage times at no load;
 * without a profile, one unit per segment.
 */
function exitCostMs(pkg: ModelPackage): number[] {
  const m = pkg.manifest;
  let segmentMs = m.segments.map(() => 1);
  let headMs = m.exits.map(() => 0);
  try {
    const t = stageTimes(pkg, 'cpu', 0);
    segmentMs = t.segments;
    headMs = m.exits.map((_, i) => t.fusedHeads?.[i] ?? t.trunkHeads[i]);
  } catch {
    // no profile.json: segments as the unit
  }
  let total = 0;
  let next = 0;
  return m.exits.map((e, i) => {
    for (; next <= e.after_segment; next++) total += segmentMs[next];
    total += headMs[i];
    return total;
  });
}

/**
 * One tuner per model version for the whole fleet: whichever gateway holds the model's lease in
 * Redis reads the audit records four times a second (when new ones came) and writes a new thresholds
 * version when agreement with the final exit calls for it (see @outlet/adaptation's tune). Every
 * trunk reads the live version within THRESHOLD_REFRESH_MS. OUTLET_ADAPT=off: never changes them.
 */
@Injectable()
export class ThresholdTuner implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ThresholdTuner');
  private readonly store: ThresholdStore;
  private readonly holder = randomUUID();
  private readonly options = new Map<string, TunerOptions>();
  /** Per model: the newest audit record seen at the last round (no new record, no round). */
  private readonly lastSeen = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    @Inject(GATEWAY_SETTINGS) private readonly settings: GatewaySettings,
    private readonly catalog: ModelCatalog,
    @InjectRedis() redis: Redis,
  ) {
    this.store = new ThresholdStore(redis);
    for (const [name, pkg] of catalog.packages) {
      this.options.set(
        name,
        defaultTunerOptions({
          budget: settings.accuracyBudget,
          grid: DEFAULT_THRESHOLD_GRID,
          exitCostMs: exitCostMs(pkg),
          calibrated: pkg.manifest.exits.map((e) => e.threshold),
          baseAuditRate: settings.auditRate,
          maxAuditRate: settings.auditMaxRate,
        }),
      );
    }
  }

  /** A model's tuner options: its exit costs (from its profile, read once) and the settings. */
  optionsFor(model: string): TunerOptions {
    const options = this.options.get(model);
    if (!options) throw new Error(`no tuner for model '${model}'`);
    return options;
  }

  onModuleInit() {
    if (!this.settings.adapt) {
      this.logger.log('OUTLET_ADAPT=off: exit thresholds stay as calibrated offline (audits still run and are shown)');
      return;
    }
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.round()
        .catch((err) => this.logger.warn(`tuning round failed: ${(err as Error).message}`))
        .finally(() => (this.busy = false));
    }, TUNE_EVERY_MS).unref();
  }

  onApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
  }

  private async round(): Promise<void> {
    for (const [name, pkg] of this.catalog.packages) {
      const mv = { model: name, version: pkg.manifest.version };
      if (!(await this.store.holdTunerLease(mv, this.holder, LEASE_MS))) continue;
      const [live] = await this.store.read([mv]);
      if (!live) continue; // no trunk has started it yet
      const records = await this.store.audits(mv);
      const newest = records[0]?.at ?? 0;
      if (newest === this.lastSeen.get(name)) continue;
      this.lastSeen.set(name, newest);
      const now = Date.now();
      const decision = tune(records, live, this.options.get(name)!, now);
      const next = decision.live;
      if (decision.kind === 'keep') {
        // The audit rate and the exit probabilities follow the window without a new version.
        const moved = next.auditRate !== live.auditRate || next.windowSince !== live.windowSince || !sameNumbers(next.exitProbabilities, live.exitProbabilities);
        if (moved) await this.store.write(mv, live.version, next);
        continue;
      }
      const change: ThresholdChange = { version: next.version, at: now, thresholds: next.thresholds, previous: live.thresholds, auditRate: next.auditRate, kind: decision.kind, reason: decision.reason, window: decision.window };
      if (await this.store.write(mv, live.version, next, change)) {
        this.logger.log(`${name}: thresholds v${next.version} [${next.thresholds.join(', ')}] (${decision.kind}; was [${live.thresholds.join(', ')}]): ${decision.reason}`);
      }
    }
  }
}

/** Exit probabilities this close count as unchanged: each change makes every trunk plan again. */
const PROBABILITY_STEP = 0.05;

function sameNumbers(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return a?.length === b?.length && (a ?? []).every((v, i) => Math.abs(v - b![i]) < PROBABILITY_STEP);
}
