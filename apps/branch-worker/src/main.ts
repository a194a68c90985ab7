import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, processLogger } from '@outlet/edge-node';
import { compileAllChecks } from '@outlet/contracts';
import { assertRedisReachable, readBranchSettings, settingsOrExit } from '@outlet/config';
import { loadModelPackages } from '@outlet/model-package';
import { BranchWorkerModule } from './branch-worker.module';
import { BranchHeartbeat } from './branch-heartbeat.service';

/** The branch worker: runs early exit heads on the node's CPU beside the trunk. */
async function bootstrap() {
  const settings = settingsOrExit(readBranchSettings, 'branch-worker');
  compileAllChecks(); // now, not on the first request or job
  await assertRedisReachable(settings.redisUrl, 'branch-worker');
  const packages = settingsOrExit(() => loadModelPackages(settings.modelsDir), 'branch-worker');
  const app = await NestFactory.createApplicationContext(BranchWorkerModule.forRoot(settings, packages), {
    logger: processLogger('branch-worker'),
  });
  const leave = closeOnSignals(app, 'branch-worker');
  void app.get(BranchHeartbeat).drained.then(() => leave('drained'));
  new Logger('BranchWorker').log(`node ${settings.nodeId} ready (pid ${process.pid})`);
}

bootstrap().catch((err) => {
  console.error(`branch-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
