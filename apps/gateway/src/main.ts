import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, processLogger } from '@outlet/edge-node';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NextFunction, Request, Response } from 'express';
import { assertRedisReachable, readGatewaySettings, settingsOrExit } from '@outlet/config';
import { loadModelPackages } from '@outlet/model-package';
import { compileAllChecks, nowMs } from '@outlet/contracts';
import { GatewayModule } from './app.module';
import { ModelCatalog } from './model-catalog.service';
import { checkDefaultPlan } from './inference-request';
import { HttpErrorFilter } from './http-error.filter';
import { requestBody } from './body-parser';
import { ADMIN_ROUTE } from './admin-board.module';
import { GrpcInferenceServer } from './grpc/grpc-inference.server';
import { DOCS_ROUTE, setupOpenApi } from './openapi';
import { applyHttpHardening } from './access/http-hardening';

async function bootstrap() {
  const settings = settingsOrExit(readGatewaySettings, 'gateway');
  compileAllChecks(); // now, not on the first request or job
  await assertRedisReachable(settings.redisUrl, 'gateway');
  const catalog = new ModelCatalog(settingsOrExit(() => loadModelPackages(settings.modelsDir), 'gateway'));
  settingsOrExit(() => checkDefaultPlan(settings.defaultPlan, catalog), 'gateway');
  const app = await NestFactory.create<NestExpressApplication>(GatewayModule.forRoot(settings, catalog), {
    bodyParser: false,
    logger: processLogger('gateway'),
  });
  app.use((req: Request, _res: Response, next: NextFunction) => {
    (req as Request & { receivedAt?: number }).receivedAt = nowMs();
    next();
  });
  applyHttpHardening(app, settings);
  app.use(requestBody(settings.bodyLimit));
  app.useGlobalFilters(new HttpErrorFilter());
  setupOpenApi(app, catalog.names());
  closeOnSignals(app, 'gateway');
  await app.listen(settings.port, settings.host);
  // Keep idle client connections longer than clients and proxies usually do (Node's default is 5 s),
  // so a kept-alive connection is not closed under a request.
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const url = `http://localhost:${(app.getHttpServer().address() as { port: number }).port}`;
  const logger = new Logger('Gateway');
  // The gRPC API beside HTTP; it closes with the app (GrpcInferenceServer.onModuleDestroy).
  const grpcPort = await app.get(GrpcInferenceServer).listen(settings.host, settings.grpcPort);
  logger.log(`gRPC localhost:${grpcPort} (inference.GRPCInferenceService)`);
  logger.log(`OpenAPI ${url}/${DOCS_ROUTE} (JSON ${url}/${DOCS_ROUTE}-json)`);
  if (settings.admin) logger.log(`Bull Board ${url}${ADMIN_ROUTE}`);
  else logger.warn(`Bull Board is off: set OUTLET_ADMIN_USER and OUTLET_ADMIN_PASSWORD to serve it at ${ADMIN_ROUTE}`);
  if (settings.apiKeys.length === 0) logger.warn('the API is open to anyone who can reach it: set OUTLET_API_KEYS to require a key');
  else logger.log(`API keys required (${settings.apiKeys.length} accepted); health stays open`);
  if (settings.rateLimit) logger.log(`rate limit ${settings.rateLimit.limit} requests per ${settings.rateLimit.windowMs} ms per key or client, counted in this gateway`);
  logger.log(`serving ${catalog.names().join(', ')} — API ${url}/v2/models/<name>/infer`);
}

bootstrap().catch((err) => {
  console.error(`gateway: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
