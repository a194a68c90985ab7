import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { LiveThresholds } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ModelPackage } from '@outlet/model-package';
import { InjectRedis, ThresholdStore } from '@outlet/transport';
import { PlanSelector } from './plan-selector.service';
import { TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** How often the trunk reads the fleet's live thresholds: a change reaches every task within about this. */
export const THRESHOLD_REFRESH_MS = 500;

/** The offline calibration (the manifest's thresholds) as version 1 of a model's live thresholds. */
export function offlineThresholds(pkg: ModelPackage, auditRate: number, now: number): LiveThresholds {
  return { version: 1, thresholds: pkg.manifest.exits.map((e) => e.threshold), auditRate, updatedAt: now, windowSince: 0, reason: 'offline calibration (manifest.json)' };
}

/**
 * The exit thresholds every task of this trunk starts with: the fleet's live version in Redis
 * (one tuner per model changes it), read every THRESHOLD_REFRESH_MS off the task's path. The
 * branch worker uses what the trunk hands it with each subjob, so one task sees one version.
 * Each change also goes to the PlanSelector, whose `auto` plans follow the live thresholds.
 */
@Injectable()
export class LiveThresholdsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LiveThresholdsService.name);
  private readonly store: ThresholdStore;
  private readonly live = new Map<string, LiveThresholds>();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @InjectRedis() redis: Redis,
    private readonly plans: PlanSelector,
  ) {
    this.store = new ThresholdStore(redis);
    for (const [name, pkg] of packages) this.live.set(name, offlineThresholds(pkg, settings.auditRate, Date.now()));
  }

  async onModuleInit() {
    // The first worker of the fleet to start stores the offline calibration as version 1.
    await Promise.all([...this.packages.values()].map((pkg) => this.store.start({ model: pkg.manifest.name, version: pkg.manifest.version }, offlineThresholds(pkg, this.settings.auditRate, Date.now()))));
    await this.refresh();
    this.timer = setInterval(() => this.refresh().catch(() => undefined), THRESHOLD_REFRESH_MS).unref();
  }

  onApplicationShutdown() {
    if (this.timer) clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    const names = [...this.packages.keys()];
    const read = await this.store.read(names.map((name) => ({ model: name, version: this.packages.get(name)!.manifest.version })));
    read.forEach((live, i) => {
      if (!live) return;
      const before = this.live.get(names[i]);
      if (before && live.version !== before.version) this.logger.log(`${names[i]}: thresholds v${live.version} [${live.thresholds.join(', ')}] (${live.reason})`);
      this.live.set(names[i], live);
      this.plans.followThresholds(names[i], live);
    });
  }

  /** A model's live thresholds now. */
  current(model: string): LiveThresholds {
    const live = this.live.get(model);
    if (!live) throw new Error(`no thresholds for model '${model}'`);
    return live;
  }
}
