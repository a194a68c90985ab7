import { DynamicModule, Logger, Module } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { TrunkSettings, bullConnection } from '@outlet/config';
import { BranchJobData, branchQueueName, inferQueueName } from '@outlet/contracts';
import { MultiExitModel, resolveExecutionProvider } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { join } from 'node:path';
import { EarlyExitInbox } from './early-exit-inbox.service';
import { BranchHandOff } from './branch-handoff.service';
import { NodeHeartbeat } from './node-heartbeat.service';
import { PlanSelector } from './plan-selector.service';
import { TrunkTaskRunner } from './trunk-task.runner';
import { inferProcessorFor } from './infer.processor';
import { TRUNK_MODELS, TRUNK_SETTINGS } from './tokens';

/** Open every model's segments and heads on the trunk's execution provider before any job is taken. */
async function loadModels(settings: TrunkSettings, packages: Map<string, ModelPackage>) {
  const logger = new Logger('TrunkModels');
  const first = [...packages.values()][0];
  const ep = await resolveExecutionProvider(
    settings.trunkEp,
    join(first.dir, first.manifest.segments[0].file),
    settings.threads,
    (message) => logger.log(message),
  );
  const models = new Map<string, MultiExitModel>();
  for (const [name, pkg] of packages) {
    models.set(name, await MultiExitModel.load(pkg, ep, settings.threads));
    logger.log(`${name} v${pkg.manifest.version}: ${pkg.manifest.segments.length} segments, ${pkg.manifest.exits.length} exits on ${ep} (${settings.threads} thread(s))`);
  }
  return models;
}

@Module({})
export class TrunkWorkerModule {
  static forRoot(settings: TrunkSettings, packages: Map<string, ModelPackage>): DynamicModule {
    const processors = [...packages.keys()].map((m) => inferProcessorFor(m, settings.concurrency));
    return {
      module: TrunkWorkerModule,
      imports: [
        BullModule.forRoot({ connection: bullConnection(settings.redisUrl) }),
        // The queues this worker takes tasks from, and its own node's branch queue it hands off to.
        BullModule.registerQueue(
          ...[...packages.keys()].map((m) => ({ name: inferQueueName(m) })),
          { name: branchQueueName(settings.nodeId) },
        ),
      ],
      providers: [
        { provide: TRUNK_SETTINGS, useValue: settings },
        { provide: TRUNK_MODELS, useFactory: () => loadModels(settings, packages) },
        EarlyExitInbox,
        {
          provide: BranchHandOff,
          useFactory: (queue: Queue<BranchJobData>) => new BranchHandOff(settings, queue),
          inject: [getQueueToken(branchQueueName(settings.nodeId))],
        },
        PlanSelector,
        NodeHeartbeat,
        TrunkTaskRunner,
        ...processors,
      ],
    };
  }
}
