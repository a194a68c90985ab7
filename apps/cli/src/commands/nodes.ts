import { Command } from 'commander';
import { NodeView } from '@outlet/contracts';
import { DEFAULT_URL, base, call } from '../gateway-client';

const dash = (v: unknown) => (v === null || v === undefined ? '-' : String(v));

function statusText(n: NodeView): string {
  if (n.status === 'gone' && n.left) return `gone (${n.left})`;
  return n.drain_ordered && n.status === 'live' ? 'live (drain ordered)' : n.status;
}

/** Where the node's stage times come from, models counted per source: `measured 1, shipped 2 (1 measuring)`. */
function profilesText(n: NodeView): string {
  const profiles = Object.values(n.profiles ?? {});
  if (profiles.length === 0) return '-';
  const bySource = new Map<string, number>();
  for (const p of profiles) bySource.set(p.source, (bySource.get(p.source) ?? 0) + 1);
  const measuring = profiles.filter((p) => p.measuring).length;
  return [...bySource].map(([source, count]) => `${source} ${count}`).join(', ') + (measuring ? ` (${measuring} measuring)` : '');
}

/** The nodes as a text table, one row each. */
export function nodesTable(nodes: NodeView[]): string {
  const header = ['NODE', 'STATUS', 'MODELS', 'EP', 'THREADS T/B', 'HARDWARE', 'PROFILES', 'CPU', 'HEARTBEAT', 'TASKS', 'BRANCH WORKERS'];
  const rows = nodes.map((n) => [
    n.id,
    statusText(n),
    n.models.join(','),
    n.trunk_ep,
    `${dash(n.threads.trunk)}/${dash(n.threads.branch)}`,
    n.hardware ? `${n.hardware.id} (${n.hardware.cpu_model}, ${n.hardware.isa}, ${n.hardware.cores} cores, onnxruntime ${n.hardware.onnxruntime})` : '-',
    profilesText(n),
    n.cpu_util === null ? '-' : `${Math.round(n.cpu_util * 100)}%`,
    `${(n.heartbeat_age_ms / 1000).toFixed(1)}s ago`,
    dash(n.tasks_in_flight),
    String(n.branch_workers.length),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** `outlet nodes` (list the fleet) and `outlet nodes drain <id>`. */
export function registerNodes(program: Command): void {
  const nodes = program
    .command('nodes')
    .description("list the fleet's nodes from a gateway: status (live, draining, stale, gone), models, execution provider, threads, hardware fingerprint, where its models' stage times come from (measured, stored, cache, shipped, predicted: --json has each model's plan table), CPU, heartbeat age, tasks in flight, branch workers")
    .option('--url <url>', 'the gateway', DEFAULT_URL)
    .option('--api-key <key>', 'one of the gateway\'s OUTLET_API_KEYS (default: $OUTLET_API_KEY)', process.env.OUTLET_API_KEY)
    .option('--json', 'print the JSON the gateway answered')
    .action(async (opts: { url: string; apiKey?: string; json?: boolean }) => {
      const body = await call('GET', `${base(opts.url)}/v1/nodes`, opts.apiKey);
      if (opts.json) return console.log(JSON.stringify(body, null, 2));
      console.log(body.nodes.length ? nodesTable(body.nodes) : 'no node has sent a heartbeat in the last 5 minutes');
    });

  nodes
    .command('drain <id>')
    .description('drain a node: its trunk takes no new task, finishes those in flight and exits 0; its branch worker follows')
    .option('--wait', 'wait until the node is gone, showing its state as it changes')
    // --url and --api-key are the parent's options (commander parses them wherever they stand).
    .action(async (id: string, _opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<{ url: string; apiKey?: string; wait?: boolean }>();
      const url = `${base(opts.url)}/v1/nodes/${encodeURIComponent(id)}`;
      const node: NodeView = await call('POST', `${url}/drain`, opts.apiKey);
      console.log(`node ${id}: drain ordered (${node.status}, ${dash(node.tasks_in_flight)} task(s) in flight); it stops taking tasks at its next heartbeat`);
      if (!opts.wait) return;
      let last = '';
      for (;;) {
        const now: NodeView = await call('GET', url, opts.apiKey);
        const line = `node ${id}: ${statusText(now)}, ${dash(now.tasks_in_flight)} task(s) in flight, ${now.branch_workers.length} branch worker(s)`;
        if (line !== last) console.log(line);
        last = line;
        if (now.status === 'gone') return;
        await new Promise((r) => setTimeout(r, 500));
      }
    });
}
