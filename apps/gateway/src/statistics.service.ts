import { Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { TaskAnswer, TritonModelStat } from '@outlet/contracts';
import { InjectRedis, countStats, msToNs, readStats } from '@outlet/transport';
import { ModelCatalog } from './model-catalog.service';
import { toTritonModelStat } from './statistics-shape';

/** A synchronous request's clock at the gateway (ms, sub-ms precision). */
export interface RequestClock {
  receivedAt: number;
  enqueuedAt: number;
  answeredAt: number;
}

/**
 * The gateway's part of the fleet-wide statistics (what only it sees: a synchronous request's
 * whole duration, its ingress and delivery, and the requests that never got a worker's answer),
 * and the reader of everyone's counters. Counting happens after the reply is on its way.
 */
@Injectable()
export class StatisticsService {
  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly catalog: ModelCatalog,
  ) {}

  private version(model: string): string | undefined {
    return this.catalog.packages.get(model)?.manifest.version;
  }

  /** A synchronous request answered. */
  success(model: string, answer: TaskAnswer, clock: RequestClock): void {
    const version = this.version(model);
    if (version === undefined) return;
    setImmediate(() =>
      countStats(this.redis, model, version, {
        success_count: 1,
        success_ns: msToNs(clock.answeredAt - clock.receivedAt),
        compute_input_count: 1,
        compute_input_ns: msToNs(clock.enqueuedAt - clock.receivedAt),
        compute_output_count: 1,
        compute_output_ns: msToNs(clock.answeredAt - answer.decidedAt),
      }),
    );
  }

  /** A synchronous request that got no worker's answer (timeout, enqueue error); a worker's failure is counted by the worker. */
  failure(model: string, receivedAt: number, failedAt: number): void {
    const version = this.version(model);
    if (version === undefined) return;
    setImmediate(() => countStats(this.redis, model, version, { fail_count: 1, fail_ns: msToNs(failedAt - receivedAt), fail_by_gateway: 1 }));
  }

  /** Raw counters of every served model version (the catalog's). */
  async counters(): Promise<{ model: string; version: string; exitCount: number; counters: Record<string, number> }[]> {
    const versions = this.catalog.names().map((model) => {
      const m = this.catalog.get(model).manifest;
      return { model, version: m.version, exitCount: m.exits.length };
    });
    const counters = await readStats(this.redis, versions);
    return versions.map((v, i) => ({ ...v, counters: counters[i] }));
  }

  /**
   * Triton's `model_stats` for all models, one model, or one version of it (404 for an unknown
   * one), as HTTP's /stats and gRPC's ModelStatistics answer them.
   */
  async modelStats(model?: string, version?: string): Promise<{ model_stats: TritonModelStat[] }> {
    if (model !== undefined) this.catalog.manifest(model, version);
    const all = await this.counters();
    return {
      model_stats: all.filter((s) => model === undefined || s.model === model).map((s) => toTritonModelStat(s.model, s.version, s.exitCount, s.counters)),
    };
  }
}
