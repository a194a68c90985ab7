import { Command } from 'commander';
import { readCpuTimes, utilizationBetween } from '@outlet/edge-node';
import { LoadGenerator } from '@outlet/profiler';
import { parseLevels } from './progress';

/**
 * `outlet load`: hold the machine's cores at a background CPU utilization (the profiler's load
 * generator) and print what /proc/stat sees, e.g. to check the generator or to load a node by hand.
 */
export function registerLoad(program: Command): void {
  program
    .command('load')
    .description('hold every core at a target background CPU utilization by duty cycling (one busy loop per core), printing the achieved machine-wide utilization from /proc/stat; with several levels, steps through them and prints a table')
    .argument('<levels>', 'target utilization(s), 0..1, comma separated (e.g. 0.5 or 0,0.25,0.5,0.75,0.9)')
    .option('--seconds <s>', 'how long to hold each level', '3')
    .option('--period <ms>', 'duty-cycle period in ms', '10')
    .option('--threads <n>', 'busy loops (default: one per core)')
    .action(async (levelsText: string, opts: { seconds: string; period: string; threads?: string }) => {
      const levels = parseLevels(levelsText);
      const seconds = Number(opts.seconds);
      if (!(seconds > 0)) throw new Error('--seconds must be positive');
      const load = new LoadGenerator({ periodMs: Number(opts.period), threads: opts.threads ? Number(opts.threads) : undefined });
      console.log(`load generator: ${load.threads} busy loop(s), period ${load.periodMs} ms`);
      console.log('target  achieved(machine)  load-threads-share');
      try {
        for (const u of levels) {
          load.start(u);
          await new Promise((r) => setTimeout(r, 300));
          const a = readCpuTimes();
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, seconds * 1000));
          const own = process.cpuUsage(cpu0);
          const share = (own.user + own.system) / 1000 / (performance.now() - t0) / load.threads;
          console.log(`${u.toFixed(2).padStart(6)}  ${utilizationBetween(a, readCpuTimes()).toFixed(3).padStart(17)}  ${share.toFixed(3).padStart(18)}`);
        }
      } finally {
        await load.stopAndWait();
      }
    });
}
