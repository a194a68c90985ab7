import { DynamicModule, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { BullBoardModule, InjectBullBoard, BullBoardInstance } from '@bull-board/nestjs';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import basicAuth from 'express-basic-auth';
import { NextFunction, Request, Response } from 'express';
import Redis from 'ioredis';
import { InjectRedis, reportErrorsBesidesOutages } from '@outlet/transport';
import { branchQueueName, inferQueueName, queuePrefix } from '@outlet/contracts';
import { NodeRegistry } from './node-registry.service';

export const ADMIN_ROUTE = '/admin/queues';

/**
 * Adds each node's branch queue to the board as nodes appear. Nodes join at any time, so the
 * board asks before every page or API call rather than on a timer.
 */
@Injectable()
export class BranchQueueSync implements OnModuleInit, OnApplicationShutdown {
  static current?: BranchQueueSync;
  private readonly queues = new Map<string, Queue>();

  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    private readonly nodes: NodeRegistry,
    @InjectRedis() private readonly redis: Redis,
  ) {}

  onModuleInit() {
    BranchQueueSync.current = this;
  }

  async sync(): Promise<void> {
    for (const node of await this.nodes.liveNodes()) {
      const name = branchQueueName(node.nodeId);
      if (this.queues.has(name)) continue;
      const queue = new Queue(name, { connection: this.redis, prefix: queuePrefix(name) });
      reportErrorsBesidesOutages(queue, `queue ${name}`);
      this.queues.set(name, queue);
      this.board.addQueue(new BullMQAdapter(queue, { readOnlyMode: false }));
    }
  }

  async onApplicationShutdown() {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** Bull Board's own Express app without its X-Powered-By header: helmet removes the gateway's, which this sub-app sets again. */
class BoardExpressAdapter extends ExpressAdapter {
  constructor() {
    super();
    this.app.disable('x-powered-by');
  }
}

function boardMiddleware(admin: { user: string; password: string }) {
  const auth = basicAuth({ users: { [admin.user]: admin.password }, challenge: true, realm: 'outlet-admin' });
  return (req: Request, res: Response, next: NextFunction) =>
    auth(req, res, () => {
      const sync = BranchQueueSync.current?.sync() ?? Promise.resolve();
      sync.then(() => next(), next);
    });
}

/** Bull Board at /admin/queues behind HTTP basic auth; absent (404) when no credentials are set. */
@Module({})
export class AdminBoardModule {
  static forRoot(settings: { admin?: { user: string; password: string } }, models: string[]): DynamicModule {
    if (!settings.admin) return { module: AdminBoardModule };
    return {
      module: AdminBoardModule,
      imports: [
        BullBoardModule.forRoot({ route: ADMIN_ROUTE, adapter: BoardExpressAdapter, middleware: boardMiddleware(settings.admin) }),
        ...models.map((m) => BullBoardModule.forFeature({ name: inferQueueName(m), adapter: BullMQAdapter })),
      ],
      providers: [BranchQueueSync],
    };
  }
}
