import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, processLogger } from '@outlet/edge-node';
import { assertRedisReachable, readTrunkSettings, settingsOrExit } from '@outlet/config';
import { loadModelPackages } from '@outlet/model-package';
import { TrunkWorkerModule } from './trunk-worker.module';

/** The trunk worker: a headless Nest application that runs backbones on the node's accelerator. */
async function bootstrap() {
  const settings = settingsOrExit(readTrunkSettings, 'trunk-worker');
  await assertRedisReachable(settings.redisUrl, 'trunk-worker');
  const packages = settingsOrExit(() => loadModelPackages(settings.modelsDir), 'trunk-worker');
  const app = await NestFactory.createApplicationContext(TrunkWorkerModule.forRoot(settings, packages), {
    logger: processLogger('trunk-worker'),
  });
  closeOnSignals(app, 'trunk-worker');
  new Logger('TrunkWorker').log(`node ${settings.nodeId} ready (pid ${process.pid})`);
}

bootstrap().catch((err) => {
  console.error(`trunk-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
