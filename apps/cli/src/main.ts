import { Command } from 'commander';
import { startCommand } from './commands/start';

/** The `outlet` command line: run the system, and the offline stage (profile, predict, calibrate, plan). */
const program = new Command('outlet').description('Outlet: multi-exit inference across CPU and accelerator');

program
  .command('start')
  .description('run the whole single-node system: gateway, trunk worker, branch worker (and a private redis-server unless REDIS_URL is set)')
  .action(startCommand);

require('./commands/profile').registerProfile(program);
require('./commands/predictor').registerPredictor(program);
require('./commands/load').registerLoad(program);

program.parseAsync(process.argv).catch((err) => {
  console.error(`outlet: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
