import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { modelsHome } from '@outlet/model-package';
import { CHAOS_REDIS, ChaosRedis, ChaosRun, KILL_KINDS, KillKind, chaosText } from '@outlet/bench';
import { commaList, numberIn, positiveInteger, positiveNumber } from '../offline/option-parsers';


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
    .option('--models-dir <dir>', 'folder of model packages', modelsHome())
    .option('--kills <n>', 'kills of each kind', positiveInteger, 5)
    .option('--kinds <list>', `kinds of kill, in turn (${KILL_KINDS.join(', ')})`, KILL_KINDS.join(','))
    .option('--tasks <n>', 'send at least this many tasks (the load goes on after the last kill until then)', positiveInteger, 1000)
    .option('--rate <n>', 'tasks per second (open loop)', positiveNumber, 20)
    .option('--async-share <fraction>', 'share of tasks sent as jobs (POST /v1/jobs)', numberIn(0, 1), 0.5)
    .option('--plans <list>', 'plans the tasks name, in turn', commaList, ['parallel', 'auto'])
    .option('--digits <n>', 'distinct held-out MNIST digits sent in turn', positiveInteger, 200)
    .option('--gap-s <s>', 'load-only seconds between one kill\'s recovery and the next kill', positiveNumber, 2)
    .option('--recovery-deadline-s <s>', 'a kill whose tasks are not all answered this long after it counts as not recovered', positiveNumber, 60)
    .option('--drain-s <s>', 'after the load stops, how long accepted tasks may take to be answered', positiveNumber, 90)
    .option('--redis <mode>', `${CHAOS_REDIS.join(' | ')}: one server (a redis kill restarts it from its append-only file), a Redis Cluster of 3 masters + 3 replicas or a Sentinel set (a redis kill hits the server of the model's queue; a replica takes over)`, 'single')
    .option('--out <dir>', 'where the JSON and text reports go', 'chaos-results')
    .action(async (opts) => {
      const kinds = commaList(opts.kinds) as KillKind[];
      const unknown = kinds.filter((k) => !KILL_KINDS.includes(k));
      if (!kinds.length || unknown.length) throw new Error(`--kinds must list some of ${KILL_KINDS.join(', ')}`);
      if (!(CHAOS_REDIS as readonly string[]).includes(opts.redis)) throw new Error(`--redis must be one of ${CHAOS_REDIS.join(', ')}, not '${opts.redis}'`);
      const started = new Date();
      const report = await new ChaosRun({
        model: opts.model,
        modelsDir: resolve(opts.modelsDir),
        killsEach: opts.kills,
        kinds,
        minTasks: opts.tasks,
        ratePerS: opts.rate,
        asyncShare: opts.asyncShare,
        plans: opts.plans,
        digits: opts.digits,
        gapMs: opts.gapS * 1000,
        recoveryDeadlineMs: opts.recoveryDeadlineS * 1000,
        drainDeadlineMs: opts.drainS * 1000,
        redis: opts.redis as ChaosRedis,
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
