import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { HardwareFingerprint, NodeProfileStatus, describeFingerprint, profileMeasuringKey, storedProfileKey } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { ExecutionProvider, ModelThread } from '@outlet/inference';
import { ModelPackage, readPackageJson } from '@outlet/model-package';
import { PROFILE_FILE, ProfileFile, StoredProfile, cachedTransferPath, packageDigest, parseStoredProfile, readCachedProfile, readCachedTransfer, writeCachedProfile } from '@outlet/profiler';
import { TRANSFER_FILE } from '@outlet/planner';
import { hardwareFingerprint } from '@outlet/edge-node';
import { kernelPieceTimes, kernelPredictorPathFor, loadKernelPredictor, stageTimes } from '@outlet/predictor';
import { InjectRedis } from '@outlet/transport';
import { PlanSelector } from './plan-selector.service';
import type { ProfileChildRequest } from './profile-child';
import { TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/** A quick profile that runs longer than this is stopped (branchy-bench takes about 13 s on 2 cores). */
const MEASURE_LIMIT_MS = 120_000;
/** How often a node waiting for a peer's profile of its fingerprint looks for it. */
const PEER_POLL_MS = 1_000;

/**
 * The profiling process, on every core of the machine even when the trunk is pinned to one
 * (taskset, where util-linux has it): its load generator must spread over the machine as the
 * background load a profile level stands for does, not pile onto the trunk's core.
 */
function spawnProfiler(args: string[]): ChildProcess {
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  const allCores = `0-${cpus().length - 1}`;
  if (spawnSync('taskset', ['-c', allCores, 'true']).status === 0) return spawn('taskset', ['-c', allCores, process.execPath, ...args], { stdio });
  return spawn(process.execPath, args, { stdio });
}

/**
 * Each node's own profile of each model, for its own hardware fingerprint. At start, without
 * holding readiness, per model: the local cache, else the profile a node with the same fingerprint
 * stored in Redis, else the package's profile.json if it was measured on this fingerprint; else
 * the node plans with the kernel-level predictor meanwhile and measures the package itself (the
 * quick protocol, in a child process), one node per fingerprint at a time, and stores the result
 * in Redis and in its cache. Its plan selector then plans from its own stage times.
 */
@Injectable()
export class NodeProfiles implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeProfiles.name);
  private readonly states = new Map<string, NodeProfileStatus>();
  private child?: ChildProcess;
  private closed = false;

  constructor(
    @Inject(TRUNK_PACKAGES) private readonly packages: Map<string, ModelPackage>,
    @Inject(TRUNK_ENGINE) private readonly engine: ModelThread,
    @Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings,
    @InjectRedis() private readonly redis: Redis,
    private readonly plans: PlanSelector,
  ) {
    // Until it has looked (cache, Redis, package), a node counts as measuring: its plans may still change.
    for (const model of packages.keys()) this.states.set(model, { source: 'shipped', measuring: true });
  }

  onApplicationBootstrap() {
    void this.findAll();
  }

  /** Per model, for the node's status: where its stage times come from, its plan at idle, its last re-plan. */
  status(): Record<string, NodeProfileStatus> {
    const out: Record<string, NodeProfileStatus> = {};
    for (const [model, state] of this.states) {
      const planAtIdle = this.plans.planAtIdle(model);
      const plans = this.plans.planRows(model);
      const replanned = this.plans.lastReplan(model);
      out[model] = { ...state, ...(planAtIdle && { planAtIdle }), ...(plans && { plans }), ...(replanned && { replanned }) };
    }
    return out;
  }

  private async findAll(): Promise<void> {
    const fingerprint = this.plans.fingerprint;
    // This machine's own hand-off model (outlet transfer), keyed as a cpu trunk with these thread budgets.
    const transferKey = fingerprint.trunkEp === 'cpu' ? fingerprint : hardwareFingerprint({ ...fingerprint, trunkEp: 'cpu', adapter: undefined });
    const transferPath = cachedTransferPath(this.settings.cacheDir, transferKey.id);
    const transfer = readCachedTransfer(transferPath);
    if (transfer) this.logger.log(`hand-off model: this machine's own (${transferPath}) in place of the packages' ${TRANSFER_FILE}`);
    for (const [model, pkg] of this.packages) {
      if (transfer) pkg.own = { ...pkg.own, [TRANSFER_FILE]: transfer };
      if (this.closed) return;
      try {
        await this.find(model, pkg, fingerprint);
      } catch (err) {
        const error = (err as Error).message;
        this.states.set(model, { ...this.states.get(model)!, measuring: false, error });
        this.logger.warn(`${model}: no profile of this node's own (${error}); it serves with ${this.states.get(model)!.source} plans`);
      }
    }
  }

  private async find(model: string, pkg: ModelPackage, fingerprint: HardwareFingerprint): Promise<void> {
    const digest = packageDigest(pkg);
    const key = storedProfileKey(model, digest, fingerprint.id);
    const cached = readCachedProfile(this.settings.cacheDir, model, digest, fingerprint.id);
    if (cached) {
      // Shared with the fleet: Redis may have been emptied since, and a peer may start without one.
      await this.redis.set(key, JSON.stringify(cached), 'NX').catch(() => undefined);
      return this.use(model, pkg, cached, 'cache');
    }
    const stored = parseStoredProfile((await this.redis.get(key)) ?? '', model, digest, fingerprint.id);
    if (stored) {
      writeCachedProfile(this.settings.cacheDir, stored);
      return this.use(model, pkg, stored, 'stored');
    }
    const shipped = readPackageJson<ProfileFile>(pkg, PROFILE_FILE);
    if (shipped?.fingerprints?.[this.engine.ep]?.id === fingerprint.id) {
      this.states.set(model, { source: 'shipped', measuring: false });
      this.logger.log(`${model}: the package's ${PROFILE_FILE} was measured on this node's fingerprint [${fingerprint.id}]: its plans are this node's`);
      return this.useOwnTransfer(model, pkg);
    }
    if (!this.settings.selfProfile) {
      this.states.set(model, { source: 'shipped', measuring: false });
      this.logger.warn(`${model}: no profile measured on this node's hardware (${describeFingerprint(fingerprint)}) and OUTLET_SELF_PROFILE=off: it plans with the package's`);
      return this.useOwnTransfer(model, pkg);
    }
    await this.usePredictor(model, pkg);
    const found = await this.measureOrWait(model, pkg, digest, fingerprint);
    if (found) this.use(model, pkg, found.stored, found.source);
  }

  /** Plan from the kernel-level predictor (this node's adapted one where `outlet predictor adapt` made it) until the profile is there. */
  private async usePredictor(model: string, pkg: ModelPackage): Promise<void> {
    const ep = this.engine.ep;
    const path = kernelPredictorPathFor(ep, this.settings.threads);
    const predictor = loadKernelPredictor(path);
    if (!predictor) {
      this.logger.warn(`${model}: no kernel-level predictor at ${path}: it plans with the package's files until its profile is measured`);
      return;
    }
    // Heads on cpu are predicted at the trunk's threads where the trunk runs on cpu too (one budget per provider).
    const threadsOf: Record<string, number> = { cpu: ep === 'cpu' ? this.settings.threads : this.settings.branchThreads, [ep]: this.settings.threads };
    const kernels = await kernelPieceTimes(pkg, predictor, threadsOf, true);
    const times = (u: number) => stageTimes(pkg, ep, u, undefined, { kernels, ignoreProfile: true });
    if (this.plans.useStageTimes(model, times, `kernel-level predictor (${path}) until this node has measured its own profile`)) {
      this.states.set(model, { source: 'predicted', measuring: true });
    }
  }

  /** Measure the package here, unless a node with the same fingerprint already does: then wait for its result. */
  private async measureOrWait(model: string, pkg: ModelPackage, digest: string, fingerprint: HardwareFingerprint): Promise<{ stored: StoredProfile; source: 'measured' | 'stored' } | undefined> {
    const key = storedProfileKey(model, digest, fingerprint.id);
    const lock = profileMeasuringKey(model, digest, fingerprint.id);
    this.states.set(model, { ...this.states.get(model)!, measuring: true });
    let waitingFor: string | undefined;
    while (!this.closed) {
      if ((await this.redis.set(lock, this.settings.nodeId, 'PX', MEASURE_LIMIT_MS + 10_000, 'NX')) === 'OK') {
        try {
          const stored = await this.measure(model, pkg, digest, fingerprint);
          await this.redis.set(key, JSON.stringify(stored));
          writeCachedProfile(this.settings.cacheDir, stored);
          return { stored, source: 'measured' };
        } finally {
          if ((await this.redis.get(lock)) === this.settings.nodeId) await this.redis.del(lock);
        }
      }
      const holder = await this.redis.get(lock);
      if (holder && holder !== waitingFor) {
        waitingFor = holder;
        this.logger.log(`${model}: node ${holder} is measuring the profile of this fingerprint [${fingerprint.id}]; waiting for it`);
      }
      const stored = parseStoredProfile((await this.redis.get(key)) ?? '', model, digest, fingerprint.id);
      if (stored) {
        writeCachedProfile(this.settings.cacheDir, stored);
        return { stored, source: 'stored' };
      }
      await delay(PEER_POLL_MS);
    }
    return undefined;
  }

  /** The quick protocol in a child process, with its progress in this node's log. */
  private async measure(model: string, pkg: ModelPackage, digest: string, fingerprint: HardwareFingerprint): Promise<StoredProfile> {
    const ep = this.engine.ep as ExecutionProvider;
    const request: ProfileChildRequest = { dir: pkg.dir, eps: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'], threads: this.settings.threads, branchThreads: this.settings.branchThreads };
    this.logger.log(`${model}: no profile for this node's hardware (${describeFingerprint(fingerprint)}): measuring one (quick protocol, at most ${MEASURE_LIMIT_MS / 1000} s); plans from the predictor meanwhile`);
    const started = Date.now();
    const profile = await new Promise<ProfileFile>((resolve, reject) => {
      const child = spawnProfiler([join(__dirname, 'profile-child.js'), JSON.stringify(request)]);
      this.child = child;
      const timer = setTimeout(() => child.kill('SIGKILL'), MEASURE_LIMIT_MS);
      let quarter = 0;
      child.on('message', (m: { progress?: [number, number, string]; profile?: ProfileFile; error?: string }) => {
        if (m.progress) {
          const [done, total, label] = m.progress;
          if (done * 4 >= (quarter + 1) * total) {
            quarter = Math.floor((done * 4) / total);
            this.logger.log(`${model}: profiling ${Math.round((done / total) * 100)}% (${done}/${total}, ${label}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
          }
        } else if (m.profile) resolve(m.profile);
        else if (m.error) reject(new Error(`profiling failed: ${m.error}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.child = undefined;
        reject(new Error(signal === 'SIGKILL' ? `profiling took over ${MEASURE_LIMIT_MS / 1000} s and was stopped` : `the profiling process exited (${signal ?? code})`));
      });
    });
    const measureSeconds = Math.round((Date.now() - started) / 100) / 10;
    this.logger.log(`${model}: profiled this node in ${measureSeconds} s; stored for fingerprint [${fingerprint.id}]`);
    return { format: 1, model, packageDigest: digest, fingerprint, measuredBy: this.settings.nodeId, measuredAt: new Date().toISOString(), measureSeconds, profile };
  }

  /** With the package's stage times but this machine's own hand-off model: the shipped table was made with another one. */
  private useOwnTransfer(model: string, pkg: ModelPackage): void {
    if (pkg.own?.[TRANSFER_FILE] === undefined) return;
    const ep = this.engine.ep;
    this.plans.useStageTimes(model, (u) => stageTimes(pkg, ep, u), "the package's profile, this machine's own hand-off model");
  }

  /** From now on the node's stage times are this profile's. */
  private use(model: string, pkg: ModelPackage, stored: StoredProfile, source: 'measured' | 'stored' | 'cache'): void {
    pkg.own = { ...pkg.own, [PROFILE_FILE]: stored.profile };
    const ep = this.engine.ep;
    const why = `own profile (${source}: measured by ${stored.measuredBy} at ${stored.measuredAt} in ${stored.measureSeconds} s)`;
    this.plans.useStageTimes(model, (u) => stageTimes(pkg, ep, u), why);
    this.states.set(model, { source, measuring: false, measuredBy: stored.measuredBy, measuredAt: stored.measuredAt, measureSeconds: stored.measureSeconds });
  }

  onApplicationShutdown() {
    this.closed = true;
    this.child?.kill('SIGKILL');
  }
}
