import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals } from '@outlet/edge-node';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NextFunction, Request, Response } from 'express';
import { readGatewaySettings, settingsOrExit } from '@outlet/config';
import { loadModelPackages } from '@outlet/model-package';
import { nowMs } from '@outlet/contracts';
import { GatewayModule } from './app.module';
import { ModelCatalog } from './model-catalog.service';
import { HttpErrorFilter } from './http-error.filter';
import { jsonBody } from './body-parser';
import { ADMIN_ROUTE } from './admin-board.module';

async function bootstrap() {
  const settings = settingsOrExit(readGatewaySettings, 'gateway');
  const catalog = new ModelCatalog(settingsOrExit(() => loadModelPackages(settings.modelsDir), 'gateway'));
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(settings, catalog), {
    bodyParser: false,
    logger: ['log', 'warn', 'error'],
  });
  app.use((req: Request, _res: Response, next: NextFunction) => {
    (req as Request & { receivedAt?: number }).receivedAt = nowMs();
    next();
  });
  app.use(jsonBody(settings.bodyLimit));
  app.useGlobalFilters(new HttpErrorFilter());
  closeOnSignals(app, 'gateway');
  await app.listen(settings.port, settings.host);
  const url = `http://localhost:${(app.getHttpServer().address() as { port: number }).port}`;
  const logger = new Logger('Gateway');
  logger.log(`serving ${catalog.names().join(', ')} — API ${url}/v2/models/<name>/infer`);
  if (settings.admin) logger.log(`Bull Board ${url}${ADMIN_ROUTE}`);
}

bootstrap().catch((err) => {
  console.error(`gateway: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
