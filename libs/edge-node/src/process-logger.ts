import { ConsoleLogger } from '@nestjs/common';

/** Nest's boot chatter (module and route listings) hidden; our own lines and every warning kept. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

export class ProcessLogger extends ConsoleLogger {
  log(message: unknown, context?: string) {
    if (context && BOOT_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}

export function processLogger(name: string): ProcessLogger {
  return new ProcessLogger(name, { colors: process.stdout.isTTY ?? false });
}
