import Redis from 'ioredis';
import {
  AUDIT_RECORDS_KEPT,
  AuditRecord,
  LiveThresholds,
  THRESHOLD_HISTORY_KEPT,
  ThresholdChange,
  agreesWithFinal,
  auditRecordsKey,
  thresholdHistoryKey,
  thresholdsKey,
  tunerLeaseKey,
} from '@outlet/contracts';
import { countStats } from './stats-counters';

/** A model version, as the keys of its thresholds and audits name it. */
export interface ModelVersion {
  model: string;
  version: string;
}

/** Live thresholds from their Redis value; undefined when absent or not thresholds. */
export function parseLiveThresholds(text: string | null): LiveThresholds | undefined {
  if (text === null) return undefined;
  try {
    const t = JSON.parse(text) as LiveThresholds;
    return Number.isInteger(t?.version) && Array.isArray(t.thresholds) && t.thresholds.every(Number.isFinite) && Number.isFinite(t.auditRate) ? t : undefined;
  } catch {
    return undefined;
  }
}

function parseEach<T>(texts: string[], ok: (value: T) => boolean): T[] {
  const out: T[] = [];
  for (const text of texts) {
    try {
      const value = JSON.parse(text) as T;
      if (ok(value)) out.push(value);
    } catch {
      // one bad entry must not hide the rest
    }
  }
  return out;
}

/**
 * Writes a change only if the version is still the one the tuner read (one round trip): a second
 * tuner that lost its lease without knowing cannot overwrite a newer version.
 */
const WRITE_CHANGE = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[3])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
end
return 1`;

/**
 * The one home of the live thresholds, their history and the audit records in Redis (keys in
 * @outlet/contracts redis-keys.ts). Every process that reads or writes them goes through here.
 */
export class ThresholdStore {
  constructor(private readonly redis: Redis) {}

  /** Every given model version's live thresholds (undefined where none are stored yet): one GET per model, each in its model's slot. */
  async read(models: readonly ModelVersion[]): Promise<(LiveThresholds | undefined)[]> {
    const texts = await Promise.all(models.map((m) => this.redis.get(thresholdsKey(m.model, m.version))));
    return texts.map(parseLiveThresholds);
  }

  /** Store the offline calibration as version 1 unless thresholds are already live (the first worker to start does it). */
  async start(m: ModelVersion, live: LiveThresholds): Promise<boolean> {
    const set = await this.redis.set(thresholdsKey(m.model, m.version), JSON.stringify(live), 'NX');
    if (set !== 'OK') return false;
    const change: ThresholdChange = { version: live.version, at: live.updatedAt, thresholds: live.thresholds, previous: live.thresholds, auditRate: live.auditRate, kind: 'start', reason: live.reason };
    await this.redis.lpush(thresholdHistoryKey(m.model, m.version), JSON.stringify(change));
    return true;
  }

  /**
   * Replace the live thresholds read at `expectedVersion` (and add `change` to the history when the
   * thresholds changed). False when another writer got there first.
   */
  async write(m: ModelVersion, expectedVersion: number, live: LiveThresholds, change?: ThresholdChange): Promise<boolean> {
    const done = await this.redis.eval(
      WRITE_CHANGE,
      2,
      thresholdsKey(m.model, m.version),
      thresholdHistoryKey(m.model, m.version),
      String(expectedVersion),
      JSON.stringify(live),
      change ? JSON.stringify(change) : '',
      String(THRESHOLD_HISTORY_KEPT),
    );
    if (done === 1 && change) countStats(this.redis, m.model, m.version, { threshold_changes: 1 });
    return done === 1;
  }

  /** The history of changes, newest first. */
  async history(m: ModelVersion, limit = THRESHOLD_HISTORY_KEPT): Promise<ThresholdChange[]> {
    const texts = await this.redis.lrange(thresholdHistoryKey(m.model, m.version), 0, limit - 1);
    return parseEach<ThresholdChange>(texts, (c) => Number.isInteger(c?.version) && Array.isArray(c.thresholds));
  }

  /** Add an audit record (newest first, capped) and count it; fire and forget, like every statistic. */
  addAudit(m: ModelVersion, record: AuditRecord): void {
    const key = auditRecordsKey(m.model, m.version);
    this.redis
      .multi()
      .lpush(key, JSON.stringify(record))
      .ltrim(key, 0, AUDIT_RECORDS_KEPT - 1)
      .exec()
      .catch(() => undefined);
    countStats(this.redis, m.model, m.version, { audited: 1, [`audit_agree:${record.answerExit}`]: agreesWithFinal(record) ? 1 : 0, [`audit_answered:${record.answerExit}`]: 1 });
  }

  /** The newest audit records (newest first). */
  async audits(m: ModelVersion, limit = AUDIT_RECORDS_KEPT): Promise<AuditRecord[]> {
    const texts = await this.redis.lrange(auditRecordsKey(m.model, m.version), 0, limit - 1);
    return parseEach<AuditRecord>(texts, (r) => Array.isArray(r?.exits) && r.exits.length > 0 && Number.isInteger(r.answerExit) && r.answerExit < r.exits.length);
  }

  /** Take or keep the lease of a model version's tuner for `ms`: true while this holder has it. */
  async holdTunerLease(m: ModelVersion, holder: string, ms: number): Promise<boolean> {
    const key = tunerLeaseKey(m.model, m.version);
    if ((await this.redis.set(key, holder, 'PX', ms, 'NX')) === 'OK') return true;
    // Ours already: extend it (a tiny race with expiry only means one round is skipped).
    if ((await this.redis.get(key)) !== holder) return false;
    await this.redis.pexpire(key, ms);
    return true;
  }
}
