import { INestApplicationContext, Logger } from '@nestjs/common';

/**
 * On SIGTERM or SIGINT: close the Nest application (workers stop taking jobs and finish the ones
 * in flight, connections close), then exit 0. Nest's own shutdown hooks re-raise the signal, which
 * makes a clean stop look like a kill to a supervisor. Returns the same clean exit for other
 * reasons to leave (a drained node), named in the log.
 */
export function closeOnSignals(app: INestApplicationContext, name: string): (reason: string) => void {
  let closing = false;
  const close = (reason: string) => {
    if (closing) return;
    closing = true;
    new Logger(name).log(`${reason}: finishing in-flight work and closing`);
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
  return close;
}

/**
 * What a worker does when its model thread dies: exit at once, without failing the jobs in
 * flight, so BullMQ's stalled-job check hands them to a healthy worker (or this one, restarted).
 */
export function exitOnEngineFailure(logger: { error(message: string): void }): (err: Error) => void {
  return (err) => {
    logger.error(`${err.message}: exiting so that its tasks go to a healthy worker`);
    process.exit(1);
  };
}
