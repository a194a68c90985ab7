import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { ExitHeadEvent, earlyExitChannel } from '@outlet/contracts';
import { TrunkSettings } from '@outlet/config';
import { TRUNK_SETTINGS } from './tokens';

interface TaskInbox {
  firstExit?: ExitHeadEvent;
  branchMs: number;
}

/**
 * Hears the exit-head events that this node's branch workers publish. BullMQ's cancelJob only
 * reaches jobs of its own process, so the branch → trunk signal travels on Redis pub/sub.
 */
@Injectable()
export class EarlyExitInbox implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EarlyExitInbox.name);
  private readonly tasks = new Map<string, TaskInbox>();
  private subscriber: Redis;

  constructor(@Inject(TRUNK_SETTINGS) private readonly settings: TrunkSettings) {}

  async onModuleInit() {
    this.subscriber = new Redis(this.settings.redisUrl, { maxRetriesPerRequest: null });
    this.subscriber.on('message', (_channel, message) => this.receive(message));
    await this.subscriber.subscribe(earlyExitChannel(this.settings.nodeId));
  }

  async onApplicationShutdown() {
    await this.subscriber?.quit().catch(() => undefined);
  }

  private receive(message: string) {
    let event: ExitHeadEvent;
    try {
      event = JSON.parse(message);
    } catch {
      this.logger.warn(`ignored a malformed exit-head event: ${message.slice(0, 80)}`);
      return;
    }
    const inbox = this.tasks.get(event.taskId);
    if (!inbox) return; // the task already has its answer
    inbox.branchMs += event.headMs;
    if (event.exited && (!inbox.firstExit || event.decidedAt < inbox.firstExit.decidedAt)) inbox.firstExit = event;
  }

  open(taskId: string) {
    this.tasks.set(taskId, { branchMs: 0 });
  }

  firstExit(taskId: string): ExitHeadEvent | undefined {
    return this.tasks.get(taskId)?.firstExit;
  }

  /** Stop listening for a task; returns the branch heads' total run time heard so far. */
  close(taskId: string): number {
    const inbox = this.tasks.get(taskId);
    this.tasks.delete(taskId);
    return inbox?.branchMs ?? 0;
  }
}
