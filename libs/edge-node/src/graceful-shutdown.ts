import { INestApplicationContext, Logger } from '@nestjs/common';

/**
 * On SIGTERM or SIGINT: close the Nest application (workers stop taking jobs and finish the ones
 * in flight, connections close), then exit 0. Nest's own shutdown hooks re-raise the signal, which
 * makes a clean stop look like a kill to a supervisor.
 */
export function closeOnSignals(app: INestApplicationContext, name: string): void {
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    new Logger(name).log(`${signal}: finishing in-flight work and closing`);
    app.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`${name}: shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}
