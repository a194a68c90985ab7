import { Command } from 'commander';
import { DEFAULT_URL, base, call } from '../gateway-client';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(1)}%`);
const threshold = (t: number) => (t > 1 ? 'off' : String(t));

/** GET /v1/models/{m}/thresholds as text: the live version, agreement per exit, and the latest changes. */
export function thresholdsText(body: any, changes = 5): string {
  const w = body.window;
  const lines = [
    `${body.model} v${body.model_version}: thresholds v${body.version} [${body.thresholds.map(threshold).join(', ')}]  (offline [${body.offline_thresholds.join(', ')}]; adapt ${body.adapt ? 'on' : 'off'}, budget ${pct(body.accuracy_budget)}, audit rate ${pct(body.audit_rate)})`,
    `  ${body.reason}`,
    `  audit window: ${w.records} record(s)${w.since ? ` since ${w.since}` : ''}` +
      (w.at_current_thresholds ? `; at these thresholds agreement ${pct(w.at_current_thresholds.agreement)} (lower bound ${pct(w.at_current_thresholds.lowerBound)}), ${w.at_current_thresholds.expectedMs.toFixed(3)} ms expected` : ''),
    `  EXIT  THRESHOLD  ANSWERED  AGREEMENT WITH FINAL`,
    ...w.agreement_by_exit.map((a: any) => `  ${String(a.exit).padEnd(4)}  ${threshold(body.thresholds[a.exit]).padEnd(9)}  ${String(a.answered).padEnd(8)}  ${pct(a.ratio)}`),
  ];
  const recent = body.history.slice(0, changes);
  if (recent.length) lines.push('  changes (newest first):');
  for (const c of recent) lines.push(`  v${c.version} ${c.at} ${c.kind}: [${c.thresholds.map(threshold).join(', ')}] ${c.reason}`);
  return lines.join('\n');
}

/** `outlet thresholds <model> [--watch]`: the fleet's live exit thresholds of a model, from a gateway. */
export function registerThresholds(program: Command): void {
  program
    .command('thresholds <model>')
    .description("a model's live exit thresholds (one version for the whole fleet), agreement with the final exit per exit from the audits, and the latest changes with their reasons")
    .option('--url <url>', 'the gateway', DEFAULT_URL)
    .option('--api-key <key>', "one of the gateway's OUTLET_API_KEYS (default: $OUTLET_API_KEY)", process.env.OUTLET_API_KEY)
    .option('--watch', 'print again every second while it changes (Ctrl-C to stop)')
    .option('--json', 'print the JSON the gateway answered')
    .action(async (model: string, opts: { url: string; apiKey?: string; watch?: boolean; json?: boolean }) => {
      const url = `${base(opts.url)}/v1/models/${encodeURIComponent(model)}/thresholds`;
      let last = '';
      for (;;) {
        const body = await call('GET', url, opts.apiKey);
        const text = opts.json ? JSON.stringify(body, null, 2) : thresholdsText(body);
        if (text !== last) console.log(opts.watch ? `\n${new Date().toISOString()}\n${text}` : text);
        last = text;
        if (!opts.watch) return;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    });
}
