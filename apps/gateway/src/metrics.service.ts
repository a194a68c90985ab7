import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { Counter, Gauge, Registry } from 'prom-client';
import { branchQueueName, inferQueueName, queuePrefix } from '@outlet/contracts';
import { InjectRedis, ThresholdStore, reportErrorsBesidesOutages } from '@outlet/transport';
import { agreementByExit } from '@outlet/adaptation';
import { ModelCatalog } from './model-catalog.service';
import { GatewayTransport } from './gateway-transport.service';
import { NodeRegistry } from './node-registry.service';
import { StatisticsService } from './statistics.service';
import { toTritonModelStat } from './statistics-shape';

/** BullMQ job states reported per queue. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

const US_PER_NS = 1e-3;

/**
 * Prometheus metrics of the whole system, built at scrape time from what every process left in
 * Redis: the fleet-wide counters (gateways, trunk and branch workers), BullMQ's job counts and the
 * nodes' heartbeats. One scrape target sees every node, on every host.
 */
@Injectable()
export class MetricsService implements OnApplicationShutdown {
  readonly registry = new Registry();
  private readonly branchQueues = new Map<string, Queue>();
  private readonly mv = ['model', 'version'] as const;

  private counter(name: string, help: string, labelNames: readonly string[] = this.mv) {
    return new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }
  private gauge(name: string, help: string, labelNames: readonly string[]) {
    return new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  // Triton's names.
  private readonly success = this.counter('nv_inference_request_success', 'Number of successful inference requests, all batch sizes');
  private readonly failure = this.counter('nv_inference_request_failure', 'Number of failed inference requests, all batch sizes');
  private readonly inferences = this.counter('nv_inference_count', 'Number of inferences performed (does not include cached requests)');
  private readonly executions = this.counter('nv_inference_exec_count', 'Number of model executions performed (does not include cached requests)');
  private readonly requestUs = this.counter('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds (includes cached requests)');
  private readonly queueUs = this.counter('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds (includes cached requests)');
  private readonly inputUs = this.counter('nv_inference_compute_input_duration_us', 'Cumulative compute input duration in microseconds (Outlet: gateway ingress, received to enqueued)');
  private readonly inferUs = this.counter('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds (Outlet: trunk taking the task to the exit decision)');
  private readonly outputUs = this.counter('nv_inference_compute_output_duration_us', 'Cumulative inference compute output duration in microseconds (Outlet: decision to the gateway answering)');
  // Outlet's own.
  private readonly exitAnswers = this.counter('outlet_exit_answers_total', 'Tasks answered, by exit and by the worker that decided (branch or trunk)', ['model', 'version', 'exit', 'worker']);
  private readonly segmentsRun = this.counter('outlet_trunk_segments_run_total', 'Trunk segments run');
  private readonly segmentsWasted = this.counter('outlet_trunk_segments_wasted_total', 'Trunk segments started after the task was answered');
  private readonly handOffs = this.counter('outlet_trunk_handoffs_total', 'Exit-head subjobs the trunk queued for the branch worker (each counted there as run or dropped)');
  private readonly subjobsRun = this.counter('outlet_branch_subjobs_run_total', 'Branch exit-head subjobs whose head ran');
  private readonly subjobsDropped = this.counter('outlet_branch_subjobs_dropped_total', 'Branch exit-head subjobs dropped without running (task already answered)');
  private readonly subjobOutcomes = this.counter('outlet_branch_subjob_outcomes_total', 'Branch subjobs by outcome (exit, late, continue, dropped)', ['model', 'version', 'outcome']);
  private readonly handoffUs = this.counter('outlet_branch_handoff_duration_us', 'Cumulative hand-off time (trunk hand-off to the branch worker reading the feature), microseconds');
  private readonly handoffCount = this.counter('outlet_branch_handoff_count', 'Hand-offs timed (the count for outlet_branch_handoff_duration_us)');
  private readonly audited = this.counter('outlet_audited_tasks_total', 'Answered tasks audited: run on to the final exit with every exit head evaluated');
  private readonly auditsDropped = this.counter('outlet_audits_dropped_total', 'Audits dropped unrun: more waited behind answering work than a trunk keeps');
  private readonly thresholdChanges = this.counter('outlet_threshold_changes_total', 'New versions of the live exit thresholds written by the tuner');
  private readonly exitThreshold = this.gauge('outlet_exit_threshold', 'Live exit threshold of every node (above 1: the exit never answers)', ['model', 'exit']);
  private readonly exitAgreement = this.gauge('outlet_exit_agreement_ratio', "Agreement with the final exit of the audited tasks answered at an exit, over the tuner's window", ['model', 'exit']);
  private readonly thresholdVersion = this.gauge('outlet_threshold_version', 'Version of the live exit thresholds (1: the offline calibration)', ['model']);
  private readonly auditRate = this.gauge('outlet_audit_rate', 'Share of answered tasks audited now', ['model']);
  private readonly queueJobs = this.gauge('outlet_queue_jobs', 'BullMQ jobs per queue and state, read at scrape time', ['queue', 'state']);
  private readonly nodeCpu = this.gauge('outlet_node_cpu_utilization', 'Smoothed CPU utilization of a node (0..1), from its heartbeat', ['node']);
  private readonly nodeAge = this.gauge('outlet_node_heartbeat_age_seconds', 'Seconds since a node\'s last heartbeat', ['node']);
  private readonly nodeLoop = this.gauge('outlet_node_event_loop_delay_max_ms', 'Worst event-loop delay of a node\'s trunk worker since its previous heartbeat (ms)', ['node']);
  private readonly nodeInfo = this.gauge('outlet_node_info', 'A live node (1) with its trunk execution provider and models', ['node', 'execution_provider', 'models']);

  constructor(
    @InjectRedis() private readonly redis: Redis,
    private readonly stats: StatisticsService,
    private readonly nodes: NodeRegistry,
    private readonly transport: GatewayTransport,
    private readonly catalog: ModelCatalog,
  ) {
    this.thresholds = new ThresholdStore(redis);
  }

  private readonly thresholds: ThresholdStore;

  async onApplicationShutdown() {
    await Promise.all([...this.branchQueues.values()].map((q) => q.close().catch(() => undefined)));
  }

  private branchQueue(nodeId: string): Queue {
    let q = this.branchQueues.get(nodeId);
    if (!q) {
      q = new Queue(branchQueueName(nodeId), { connection: this.redis, prefix: queuePrefix(branchQueueName(nodeId)) });
      reportErrorsBesidesOutages(q, `queue ${q.name}`);
      this.branchQueues.set(nodeId, q);
    }
    return q;
  }

  /** Every model's live thresholds and the agreement per answering exit over its tuner's window. */
  private async accuracy() {
    const versions = [...this.catalog.packages.values()].map((p) => ({ model: p.manifest.name, version: p.manifest.version, exits: p.manifest.exits.length }));
    const lives = await this.thresholds.read(versions);
    const rows = await Promise.all(
      versions.map(async (v, i) => {
        const live = lives[i];
        if (!live) return undefined;
        const window = (await this.thresholds.audits(v)).filter((r) => r.at >= live.windowSince);
        return { model: v.model, live, agreement: agreementByExit(window, v.exits) };
      }),
    );
    return rows.filter((r) => r !== undefined);
  }

  /** The text exposition of every metric, read fresh from Redis. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    const [counters, nodes, accuracy] = await Promise.all([this.stats.counters(), this.nodes.liveNodes(), this.accuracy()]);
    const queues: [string, Queue][] = [
      ...counters.map((c): [string, Queue] => [inferQueueName(c.model), this.transport.queue(c.model)]),
      ...nodes.map((n): [string, Queue] => [branchQueueName(n.nodeId), this.branchQueue(n.nodeId)]),
    ];
    const jobCounts = await Promise.all(queues.map(([, q]) => q.getJobCounts(...QUEUE_STATES)));

    this.registry.resetMetrics();
    for (const { model, version, exitCount, counters: c } of counters) {
      const s = toTritonModelStat(model, version, exitCount, c);
      const mv = { model, version };
      const is = s.inference_stats;
      this.success.inc(mv, is.success.count);
      this.failure.inc(mv, is.fail.count);
      this.inferences.inc(mv, s.inference_count);
      this.executions.inc(mv, s.execution_count);
      this.requestUs.inc(mv, (is.success.ns + is.fail.ns) * US_PER_NS);
      this.queueUs.inc(mv, is.queue.ns * US_PER_NS);
      this.inputUs.inc(mv, is.compute_input.ns * US_PER_NS);
      this.inferUs.inc(mv, is.compute_infer.ns * US_PER_NS);
      this.outputUs.inc(mv, is.compute_output.ns * US_PER_NS);
      for (const e of s.outlet.exits) {
        this.exitAnswers.inc({ ...mv, exit: String(e.exit_index), worker: 'branch' }, e.branch);
        this.exitAnswers.inc({ ...mv, exit: String(e.exit_index), worker: 'trunk' }, e.trunk);
      }
      this.segmentsRun.inc(mv, s.outlet.trunk.segments_run);
      this.segmentsWasted.inc(mv, s.outlet.trunk.segments_wasted);
      this.handOffs.inc(mv, s.outlet.trunk.hand_offs);
      this.subjobsRun.inc(mv, s.outlet.branch.subjobs_run);
      this.subjobsDropped.inc(mv, s.outlet.branch.subjobs_dropped);
      for (const [outcome, count] of Object.entries(s.outlet.branch.outcomes)) this.subjobOutcomes.inc({ ...mv, outcome }, count);
      this.handoffUs.inc(mv, s.outlet.branch.handoff.ns * US_PER_NS);
      this.handoffCount.inc(mv, s.outlet.branch.handoff.count);
      this.audited.inc(mv, c.audited ?? 0);
      this.auditsDropped.inc(mv, c.audit_dropped ?? 0);
      this.thresholdChanges.inc(mv, c.threshold_changes ?? 0);
    }
    for (const { model, live, agreement } of accuracy) {
      this.thresholdVersion.set({ model }, live.version);
      this.auditRate.set({ model }, live.auditRate);
      live.thresholds.forEach((t, exit) => this.exitThreshold.set({ model, exit: String(exit) }, t));
      for (const a of agreement) if (a.ratio !== null) this.exitAgreement.set({ model, exit: String(a.exit) }, a.ratio);
    }
    queues.forEach(([name], i) => {
      for (const state of QUEUE_STATES) this.queueJobs.set({ queue: name, state }, jobCounts[i][state] ?? 0);
    });
    const now = Date.now();
    for (const n of nodes) {
      if (typeof n.cpuUtil === 'number') this.nodeCpu.set({ node: n.nodeId }, n.cpuUtil);
      if (typeof n.eventLoopDelayMaxMs === 'number') this.nodeLoop.set({ node: n.nodeId }, n.eventLoopDelayMaxMs);
      this.nodeAge.set({ node: n.nodeId }, Math.max(0, (now - n.heartbeatAt) / 1000));
      this.nodeInfo.set({ node: n.nodeId, execution_provider: n.trunkEp, models: n.models.join(',') }, 1);
    }
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
