import { DynamicModule, Logger, Module } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { BranchSettings, subjobLockOptions } from '@outlet/config';
import { branchQueueName, queuePrefix } from '@outlet/contracts';
import { ModelThread } from '@outlet/inference';
import { exitOnEngineFailure } from '@outlet/edge-node';
import { ModelPackage } from '@outlet/model-package';
import { REDIS, RedisModule } from '@outlet/transport';
import { BranchTransport } from './branch-transport.service';
import { ExitHeadRunner } from './exit-head.runner';
import { exitHeadProcessorFor } from './exit-head.processor';
import { BranchHeartbeat } from './branch-heartbeat.service';
import { BRANCH_ENGINE, BRANCH_PACKAGES, BRANCH_QUEUE, BRANCH_SETTINGS } from './tokens';
import { HeadTimes } from './head-times';

/** Open every model's early exit heads on the CPU, in a thread of their own (the final exit always runs on the trunk). */
async function startHeads(settings: BranchSettings, packages: Map<string, ModelPackage>): Promise<ModelThread> {
  const logger = new Logger('BranchModels');
  const engine = await ModelThread.start({ packageDirs: [...packages.values()].map((p) => p.dir), ep: 'cpu', threads: settings.threads, pieces: { segments: false, exits: 'early' } }, undefined, exitOnEngineFailure(logger));
  for (const [name, pkg] of packages) {
    logger.log(`${name}: ${pkg.manifest.exits.length - 1} early exit head(s) on cpu (${settings.threads} thread(s), off the main thread)`);
  }
  return engine;
}

@Module({})
export class BranchWorkerModule {
  static forRoot(settings: BranchSettings, packages: Map<string, ModelPackage>): DynamicModule {
    return {
      module: BranchWorkerModule,
      imports: [
        RedisModule.forRoot(settings.redisUrl, 'subjobs wait until it is back'),
        BullModule.forRootAsync({ useFactory: (redis) => ({ connection: redis }), inject: [REDIS] }),
        BullModule.registerQueue({ name: branchQueueName(settings.nodeId), prefix: queuePrefix(branchQueueName(settings.nodeId)) }),
      ],
      providers: [
        { provide: BRANCH_SETTINGS, useValue: settings },
        { provide: BRANCH_PACKAGES, useValue: packages },
        { provide: BRANCH_ENGINE, useFactory: () => startHeads(settings, packages) },
        { provide: BRANCH_QUEUE, useExisting: getQueueToken(branchQueueName(settings.nodeId)) },
        BranchTransport,
        BranchHeartbeat,
        HeadTimes,
        ExitHeadRunner,
        exitHeadProcessorFor(settings.nodeId, settings.concurrency, subjobLockOptions(settings.lockMs)),
      ],
    };
  }
}
