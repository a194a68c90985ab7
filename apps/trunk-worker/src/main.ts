import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, processLogger } from '@outlet/edge-node';
import { compileAllChecks } from '@outlet/contracts';
import { assertRedisReachable, readTrunkSettings, settingsOrExit } from '@outlet/config';
import { loadModelPackages } from '@outlet/model-package';
import { TrunkWorkerModule } from './trunk-worker.module';
import { NodeHeartbeat } from './node-heartbeat.service';

/** The trunk worker: a headless Nest application that runs backbones on the node's accelerator. */
async function bootstrap() {
  const settings = settingsOrExit(readTrunkSettings, 'trunk-worker');
  compileAllChecks(); // now, not on the first request or job
  await assertRedisReachable(settings.redisUrl, 'trunk-worker');
  const packages = settingsOrExit(() => loadModelPackages(settings.modelsDir), 'trunk-worker');
  const app = await NestFactory.createApplicationContext(TrunkWorkerModule.forRoot(settings, packages), {
    logger: processLogger('trunk-worker'),
  });
  const leave = closeOnSignals(app, 'trunk-worker');
  // A drained node leaves like a stopped one: exit 0, so a supervisor sees a departure, not a crash.
  void app.get(NodeHeartbeat).drained.then(() => leave('drained'));
  new Logger('TrunkWorker').log(`node ${settings.nodeId} ready (pid ${process.pid})`);
}

bootstrap().catch((err) => {
  console.error(`trunk-worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
