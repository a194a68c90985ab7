import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ChaosRun, KILL_KINDS, KillKind, chaosText } from '@outlet/bench';

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

function positive(name: string, value: string, integer = true): number {
  const v = Number(value);
  if (!(v > 0) || (integer && !Number.isInteger(v))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return v;
}

/** `outlet chaos`: kill -9 workers and Redis under load; exits 1 if an accepted task is lost or wrong. */
export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description(
      'start Redis (append-only file), a gateway and two nodes as separate processes, hold a steady load of real digits ' +
        '(synchronous /infer and asynchronous jobs), kill -9 a trunk worker, a branch worker and Redis in turn and restart them; ' +
        'report tasks accepted, answered, lost and wrong and the recovery time per kind of kill; exit 1 if any accepted task is lost or wrong',
    )
    .option('--model <name>', 'model package to serve', 'branchy-mnist')
    .option('--models-dir <dir>', 'folder of model packages', process.env.OUTLET_MODELS_DIR ?? 'models')
    .option('--kills <n>', 'kills of each kind', '5')
    .option('--kinds <list>', `kinds of kill, in turn (${KILL_KINDS.join(', ')})`, KILL_KINDS.join(','))
    .option('--tasks <n>', 'send at least this many tasks (the load goes on after the last kill until then)', '1000')
    .option('--rate <n>', 'tasks per second (open loop)', '20')
    .option('--async-share <fraction>', 'share of tasks sent as jobs (POST /v1/jobs)', '0.5')
    .option('--plans <list>', 'plans the tasks name, in turn', 'parallel,auto')
    .option('--digits <n>', 'distinct held-out MNIST digits sent in turn', '200')
    .option('--gap-s <s>', 'load-only seconds between one kill\'s recovery and the next kill', '2')
    .option('--recovery-deadline-s <s>', 'a kill whose tasks are not all answered this long after it counts as not recovered', '60')
    .option('--drain-s <s>', 'after the load stops, how long accepted tasks may take to be answered', '90')
    .option('--out <dir>', 'where the JSON and text reports go', 'chaos-results')
    .action(async (opts) => {
      const kinds = list(opts.kinds) as KillKind[];
      const unknown = kinds.filter((k) => !KILL_KINDS.includes(k));
      if (!kinds.length || unknown.length) throw new Error(`--kinds must list some of ${KILL_KINDS.join(', ')}`);
      const asyncShare = Number(opts.asyncShare);
      if (!(asyncShare >= 0 && asyncShare <= 1)) throw new Error('--async-share must be a number from 0 to 1');
      const started = new Date();
      const report = await new ChaosRun({
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        killsEach: positive('kills', opts.kills),
        kinds,
        minTasks: positive('tasks', opts.tasks),
        ratePerS: positive('rate', opts.rate, false),
        asyncShare,
        plans: list(opts.plans),
        digits: positive('digits', opts.digits),
        gapMs: positive('gap-s', opts.gapS, false) * 1000,
        recoveryDeadlineMs: positive('recovery-deadline-s', opts.recoveryDeadlineS, false) * 1000,
        drainDeadlineMs: positive('drain-s', opts.drainS, false) * 1000,
        log: (line) => console.log(`chaos: ${line}`),
      }).run();
      const text = `${chaosText(report)}\n`;
      console.log(`\n${text}`);
      mkdirSync(opts.out, { recursive: true });
      const base = join(opts.out, `chaos-${opts.model}-${started.toISOString().replace(/[:.]/g, '-')}`);
      writeFileSync(`${base}.json`, JSON.stringify({ startedAt: started.toISOString(), ...report }, null, 2));
      writeFileSync(`${base}.txt`, text);
      console.log(`wrote ${base}.json and ${base}.txt`);
      process.exitCode = report.passed ? 0 : 1;
    });
}
