#!/usr/bin/env node
import { Command } from 'commander';
import { startCommand } from './commands/start';
import { registerBench } from './commands/bench';
import { registerChaos } from './commands/chaos';
import { registerSoak } from './commands/soak';
import { registerLoad } from './commands/load';
import { registerPredictor } from './commands/predictor';
import { registerPredict } from './commands/predict';
import { registerProfile } from './commands/profile';
import { registerCalibrate } from './commands/calibrate';
import { registerDataset } from './commands/dataset';
import { registerTransfer } from './commands/transfer';
import { registerPlan } from './commands/plan';
import { registerNodes } from './commands/nodes';
import { registerThresholds } from './commands/thresholds';
import { registerImport } from './commands/import';

/** The `outlet` command line: run the system, and the offline stage (profile, predict, calibrate, plan). */
const program = new Command('outlet').description('Outlet: multi-exit inference across CPU and accelerator');

program
  .command('start')
  .description('run the whole single-node system: gateway, trunk worker, branch worker (and a private redis-server unless REDIS_URL is set)')
  .action(startCommand);
registerNodes(program);
registerThresholds(program);

// The offline stage, in the order a new model goes through it.
registerImport(program);
registerDataset(program);
registerProfile(program);
registerPredictor(program);
registerPredict(program);
registerCalibrate(program);
registerTransfer(program);
registerPlan(program);
registerLoad(program);
registerBench(program);
registerChaos(program);
registerSoak(program);

program.parseAsync(process.argv).catch((err) => {
  console.error(`outlet: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
