import { DynamicModule, Logger, Module } from '@nestjs/common';
import { BullModule, WorkerHost, getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { TrunkSettings, jobLockOptions } from '@outlet/config';
import { branchQueueName, inferQueueName, queuePrefix } from '@outlet/contracts';
import { ModelThread } from '@outlet/inference';
import { exitOnEngineFailure } from '@outlet/edge-node';
import { ModelPackage } from '@outlet/model-package';
import { REDIS, RedisModule } from '@outlet/transport';
import { NodeHeartbeat } from './node-heartbeat.service';
import { BranchStallCheck } from './branch-stall-check.service';
import { InFlightTasks } from './in-flight-tasks';
import { PlanSelector } from './plan-selector.service';
import { NodeProfiles } from './node-profiles.service';
import { AuditRunner } from './audit-runner.service';
import { LiveThresholdsService } from './live-thresholds.service';
import { TrunkTaskRunner } from './trunk-task.runner';
import { BRANCH_QUEUE, INFER_QUEUES, TrunkTransport } from './trunk-transport.service';
import { inferProcessorFor } from './infer.processor';
import { INFER_PROCESSORS, TRUNK_ENGINE, TRUNK_PACKAGES, TRUNK_SETTINGS } from './tokens';

/**
 * Open every model's segments (and fused segment + inline head pairs) on the trunk's execution
 * provider, in a thread of their own, before any job is taken.
 */
async function startEngine(settings: TrunkSettings, packages: Map<string, ModelPackage>): Promise<ModelThread> {
  const logger = new Logger('TrunkModels');
  const engine = await ModelThread.start(
    { packageDirs: [...packages.values()].map((p) => p.dir), ep: settings.trunkEp, threads: settings.threads, pieces: { segments: true, exits: 'none', fused: true } },
    (line) => logger.log(line),
    exitOnEngineFailure(logger),
  );
  for (const [name, pkg] of packages) {
    logger.log(`${name} v${pkg.manifest.version}: ${pkg.manifest.segments.length} segments, ${pkg.manifest.exits.length} exits (fused inline) on ${engine.ep} (${settings.threads} thread(s), off the main thread)`);
  }
  return engine;
}

@Module({})
export class TrunkWorkerModule {
  static forRoot(settings: TrunkSettings, packages: Map<string, ModelPackage>): DynamicModule {
    const models = [...packages.keys()];
    const processors = models.map((m) => inferProcessorFor(m, settings.concurrency, jobLockOptions(settings.lockMs)));
    const branchQueue = branchQueueName(settings.nodeId);
    return {
      module: TrunkWorkerModule,
      imports: [
        RedisModule.forRoot(settings.redisUrl, 'tasks in flight and queued wait until it is back'),
        BullModule.forRootAsync({ useFactory: (redis) => ({ connection: redis }), inject: [REDIS] }),
        // The queues this worker takes tasks from, and its own node's branch queue it hands off to.
        BullModule.registerQueue(...models.map((m) => ({ name: inferQueueName(m), prefix: queuePrefix(inferQueueName(m)) })), { name: branchQueue, prefix: queuePrefix(branchQueue) }),
      ],
      providers: [
        { provide: TRUNK_SETTINGS, useValue: settings },
        { provide: TRUNK_PACKAGES, useValue: packages },
        { provide: TRUNK_ENGINE, useFactory: () => startEngine(settings, packages) },
        { provide: BRANCH_QUEUE, useExisting: getQueueToken(branchQueue) },
        {
          provide: INFER_QUEUES,
          useFactory: (...queues: Queue[]) => new Map(models.map((m, i) => [m, queues[i]])),
          inject: models.map((m) => getQueueToken(inferQueueName(m))),
        },
        TrunkTransport,
        PlanSelector,
        NodeProfiles,
        LiveThresholdsService,
        AuditRunner,
        NodeHeartbeat,
        TrunkTaskRunner,
        ...processors,
        InFlightTasks,
        { provide: INFER_PROCESSORS, useFactory: (...hosts: WorkerHost[]) => hosts, inject: processors },
        BranchStallCheck,
      ],
    };
  }
}
