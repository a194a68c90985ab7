import { DynamicModule, Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { GatewaySettings } from '@outlet/config';
import { REDIS, RedisModule } from '@outlet/transport';
import { inferQueueName, queuePrefix } from '@outlet/contracts';
import { ModelCatalog } from './model-catalog.service';
import { NodeRegistry } from './node-registry.service';
import { GatewayTransport } from './gateway-transport.service';
import { RedisAvailability } from './redis-availability.service';
import { GATEWAY_SETTINGS } from './tokens';
import { InferenceService } from './inference.service';
import { InferenceController } from './inference.controller';
import { JobsController } from './jobs.controller';
import { PlansController } from './plans.controller';
import { ThresholdsController } from './thresholds.controller';
import { ThresholdTuner } from './threshold-tuner.service';
import { AdminBoardModule } from './admin-board.module';
import { StatsController } from './stats.controller';
import { ModelConfigController } from './model-config.controller';
import { MetricsController } from './metrics.controller';
import { StatisticsService } from './statistics.service';
import { MetricsService } from './metrics.service';
import { GrpcInferenceServer } from './grpc/grpc-inference.server';
import { RepositoryController } from './repository.controller';
import { NodesController } from './nodes.controller';
import { AccessModule } from './access/access.module';

/** Settings, Redis, the model catalog and the node registry, shared by every gateway module. */
@Global()
@Module({})
class GatewayCoreModule {
  static forRoot(settings: GatewaySettings, catalog: ModelCatalog): DynamicModule {
    const queues = BullModule.registerQueue(...catalog.names().map((m) => ({ name: inferQueueName(m), prefix: queuePrefix(inferQueueName(m)) })));
    return {
      module: GatewayCoreModule,
      imports: [RedisModule.forRoot(settings.redisUrl, 'inference and job requests get 503 until it is back'), BullModule.forRootAsync({ useFactory: (redis) => ({ connection: redis }), inject: [REDIS] }), queues],
      providers: [
        { provide: GATEWAY_SETTINGS, useValue: settings },
        { provide: ModelCatalog, useValue: catalog },
        NodeRegistry,
        RedisAvailability,
        GatewayTransport,
      ],
      exports: [GATEWAY_SETTINGS, ModelCatalog, NodeRegistry, RedisAvailability, GatewayTransport, queues],
    };
  }
}

@Module({})
export class GatewayModule {
  static forRoot(settings: GatewaySettings, catalog: ModelCatalog): DynamicModule {
    return {
      module: GatewayModule,
      imports: [GatewayCoreModule.forRoot(settings, catalog), AccessModule.forRoot(settings), AdminBoardModule.forRoot(settings, catalog.names())],
      // Statistics and config first: InferenceController's `models/:name` would take `models/stats`.
      controllers: [StatsController, ModelConfigController, MetricsController, RepositoryController, InferenceController, JobsController, PlansController, ThresholdsController, NodesController],
      providers: [InferenceService, StatisticsService, MetricsService, GrpcInferenceServer, ThresholdTuner],
    };
  }
}
