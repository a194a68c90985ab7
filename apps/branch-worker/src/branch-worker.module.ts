import { DynamicModule, Logger, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { BranchSettings, bullConnection } from '@outlet/config';
import { branchQueueName } from '@outlet/contracts';
import { MultiExitModel } from '@outlet/inference';
import { ModelPackage } from '@outlet/model-package';
import { ExitHeadRunner } from './exit-head.runner';
import { exitHeadProcessorFor } from './exit-head.processor';
import { BRANCH_MODELS, BRANCH_SETTINGS } from './tokens';

/** Open every model's early exit heads on the CPU (the final exit always runs on the trunk). */
async function loadHeads(settings: BranchSettings, packages: Map<string, ModelPackage>) {
  const logger = new Logger('BranchModels');
  const models = new Map<string, MultiExitModel>();
  for (const [name, pkg] of packages) {
    models.set(name, await MultiExitModel.load(pkg, 'cpu', settings.threads, { segments: false, exits: 'early' }));
    logger.log(`${name}: ${pkg.manifest.exits.length - 1} early exit head(s) on cpu (${settings.threads} thread(s))`);
  }
  return models;
}

@Module({})
export class BranchWorkerModule {
  static forRoot(settings: BranchSettings, packages: Map<string, ModelPackage>): DynamicModule {
    return {
      module: BranchWorkerModule,
      imports: [
        BullModule.forRoot({ connection: bullConnection(settings.redisUrl) }),
        BullModule.registerQueue({ name: branchQueueName(settings.nodeId) }),
      ],
      providers: [
        { provide: BRANCH_SETTINGS, useValue: settings },
        { provide: BRANCH_MODELS, useFactory: () => loadHeads(settings, packages) },
        ExitHeadRunner,
        exitHeadProcessorFor(settings.nodeId, settings.concurrency),
      ],
    };
  }
}
