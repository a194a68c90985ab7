// Does planning from predictions alone choose what planning from the measured profile chooses?
// Runs `outlet plan <model> --json` twice — with the package's profile.json, and with
// --no-profile (every stage time from the kernel-level predictor, else the whole-model one) —
// and prints, per CPU utilization bucket, both latency plans (and both backlog plans) and how
// many buckets agree. Run after `npm run build`:
//   node scripts/plan-agreement.js [model=branchy-bench] [extra outlet plan options…]
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const [model = 'branchy-bench', ...extra] = process.argv.slice(2);
const cli = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
const plan = (...args) => JSON.parse(execFileSync(process.execPath, [cli, 'plan', model, '--json', ...extra, ...args], { encoding: 'utf8' }));

const measured = plan();
const predicted = plan('--no-profile');
let same = 0;
let sameBacklog = 0;
console.log(`${model}: stage times from ${measured.plans[0].stage_times_ms.source} vs ${predicted.plans[0].stage_times_ms.source}`);
console.log(`${'cpu_util'.padEnd(9)}${'plan (profile)'.padEnd(26)}${'plan (predicted)'.padEnd(26)}${'backlog (profile)'.padEnd(26)}backlog (predicted)`);
measured.plans.forEach((m, i) => {
  const p = predicted.plans[i];
  if (m.plan === p.plan) same += 1;
  if (m.backlog_plan === p.backlog_plan) sameBacklog += 1;
  const mark = (a, b) => (a === b ? '' : ' ≠');
  console.log(`${m.cpu_util.toFixed(2).padEnd(9)}${m.plan.padEnd(26)}${(p.plan + mark(m.plan, p.plan)).padEnd(26)}${m.backlog_plan.padEnd(26)}${p.backlog_plan}${mark(m.backlog_plan, p.backlog_plan)}`);
});
console.log(`same latency plan in ${same} of ${measured.plans.length} buckets; same backlog plan in ${sameBacklog} of ${measured.plans.length}`);
