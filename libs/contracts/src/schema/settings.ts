/**
 * Every environment variable Outlet reads, defined once: its type and bounds (checked at start-up
 * by libs/config), its default, which processes read it and what it means. The settings table of
 * docs/settings.md is generated from here (`settingsTable`), and a test fails when they differ.
 *
 * `x-used-by`: the processes or commands that read it; `x-default`: the default as words, where it
 * is no constant (`default` otherwise); a setting with neither is unset by default.
 */
import { SchemaOptions, Type } from '@sinclair/typebox';
import { HEARTBEAT_INTERVAL_MS } from '../node-status';
import { MAX_PRIORITY } from './inference';
import { FEATURE_TRANSPORTS } from './jobs';
import { StringEnum } from './types';

/** The trunk's execution providers a node may ask for. */
const TRUNK_EPS = ['auto', 'cuda', 'webgpu', 'cpu'] as const;
export type TrunkEpSetting = (typeof TRUNK_EPS)[number];

const ON_OFF = ['on', 'off'] as const;

type Doc = { usedBy: string; description: string; shownDefault?: string };
const doc = (d: Doc): SchemaOptions => ({ 'x-used-by': d.usedBy, description: d.description, ...(d.shownDefault ? { 'x-default': d.shownDefault } : {}) });
const int = (minimum: number, maximum: number, d: Doc & { default?: number }) =>
  Type.Integer({ minimum, maximum, ...(d.default !== undefined ? { default: d.default } : {}), ...doc(d) });
const num = (minimum: number, maximum: number, d: Doc & { default?: number }) =>
  Type.Number({ minimum, maximum, ...(d.default !== undefined ? { default: d.default } : {}), ...doc(d) });
const text = (d: Doc & { default?: string; pattern?: string; error?: string }) =>
  Type.String({ ...(d.default !== undefined ? { default: d.default } : {}), ...(d.pattern ? { pattern: d.pattern, 'x-error': d.error } : {}), ...doc(d) });
const choice = <T extends readonly string[]>(values: T, d: Doc & { default: T[number] }) => StringEnum(values, { default: d.default, ...doc(d) });

export const SETTINGS = Type.Object({
  REDIS_URL: text({
    usedBy: 'all',
    shownDefault: '`npm start`: a private `redis-server`; processes: `redis://127.0.0.1:6379`',
    description: 'Redis to use: `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS; the password is shown as `***` in logs and errors',
  }),
  REDIS_CLUSTER_NODES: text({ usedBy: 'all', description: '`host:port,…` of a Redis Cluster: wins over `REDIS_SENTINELS` and `REDIS_URL` (see [Scaling out](operating.md#scaling-out-redis-cluster-sentinel-autoscaling))' }),
  REDIS_SENTINELS: text({ usedBy: 'all', description: '`host:port,…` of a Sentinel set: wins over `REDIS_URL`' }),
  REDIS_SENTINEL_NAME: text({ usedBy: 'all', description: "the name of the Sentinel set's primary" }),
  REDIS_PASSWORD: text({ usedBy: 'all', description: 'the password of a cluster or Sentinel set (`REDIS_URL` carries its own)' }),
  REDIS_USERNAME: text({ usedBy: 'all', description: 'the ACL user of a cluster or Sentinel set' }),
  REDIS_TLS: choice(ON_OFF, { usedBy: 'all', default: 'off', description: 'TLS (`on`) to a cluster or Sentinel set' }),
  OUTLET_REDIS_WAIT_REPLICAS: int(0, 16, { usedBy: 'gateway', default: 0, description: 'replicas that must confirm a task (Redis `WAIT`) before it counts as accepted; fewer in time: 503' }),
  OUTLET_REDIS_WAIT_MS: int(1, 60_000, { usedBy: 'gateway', default: 1000, description: 'how long that confirmation may take' }),
  OUTLET_REDIS_DIR: text({
    usedBy: '`npm start`',
    shownDefault: 'unset (no persistence)',
    description:
      "folder for the private `redis-server`'s append-only file (`appendfsync always`): accepted jobs survive a crash of Redis or of the whole system; refused together with `REDIS_URL`",
  }),
  NODE_EXTRA_CA_CERTS: text({ usedBy: "all (Node's own)", description: 'a PEM file of extra trusted CAs, e.g. the CA of a `rediss://` Redis with a private certificate' }),
  PORT: int(0, 65535, { usedBy: 'gateway, `npm start`', default: 3000, description: 'HTTP port of the gateway' }),
  HOST: text({ usedBy: 'gateway', default: '0.0.0.0', description: 'address the gateway listens on' }),
  OUTLET_GRPC_PORT: int(0, 65535, { usedBy: 'gateway, `npm start`', default: 8001, description: 'gRPC port of the gateway (`inference.GRPCInferenceService`); `0`: one the OS picks (logged)' }),
  OUTLET_MODELS_DIR: text({ usedBy: 'all', default: 'models', shownDefault: '`./models`', description: 'folder of model packages (`outlet` commands run where no ./models exists use the folder this installation ships)' }),
  OUTLET_DEFAULT_PLAN: text({ usedBy: 'gateway', default: 'auto', description: 'plan for requests that name none (`serial`, `parallel`, `full`, `auto` or a comma list)' }),
  OUTLET_BODY_LIMIT: text({
    usedBy: 'gateway',
    default: '1mb',
    pattern: '^\\d+([bB]|[kKmM][bB])$',
    error: 'must look like 512kb or 1mb',
    description: 'largest request body (`512kb`, `2mb`, …); larger gets 413',
  }),
  OUTLET_INFER_TIMEOUT_MS: int(100, 3_600_000, {
    usedBy: 'gateway',
    default: 30_000,
    description: "how long `/infer` waits for an answer before 504 (less when the request's `timeout` is shorter)",
  }),
  // About what one 2-core node clears within the default 30 s infer timeout (~34 tasks/s on
  // branchy-bench): a task queued behind more would time out anyway, and 1000 waiting inputs of
  // 50 KB hold 50 MB of Redis.
  OUTLET_MAX_QUEUED: int(0, 10_000_000, {
    usedBy: 'gateway',
    default: 1000,
    description: "waiting tasks a model's queue takes; beyond, requests get 429 with `Retry-After` (gRPC `RESOURCE_EXHAUSTED`); `0`: unbounded",
  }),
  // In the middle of the range, so a request can go ahead of default traffic (1-99) or behind it.
  OUTLET_DEFAULT_PRIORITY: int(1, MAX_PRIORITY, {
    usedBy: 'gateway',
    default: 100,
    description: `the priority (1 highest … ${MAX_PRIORITY}) of a request whose \`parameters.priority\` is absent or 0`,
  }),
  OUTLET_ADMIN_USER: text({ usedBy: 'gateway', shownDefault: 'unset (board off)', description: 'basic-auth user of Bull Board at `/admin/queues` (with `OUTLET_ADMIN_PASSWORD`)' }),
  OUTLET_ADMIN_PASSWORD: text({ usedBy: 'gateway', shownDefault: 'unset (board off)', description: 'basic-auth password of Bull Board (with `OUTLET_ADMIN_USER`)' }),
  OUTLET_API_KEYS: text({
    usedBy: 'gateway',
    shownDefault: 'unset (open; a warning at start)',
    description:
      'comma list of API keys (16+ printable characters each, no spaces); when set, `Authorization: Bearer <key>` (gRPC: `authorization` metadata) is required on everything but health; 401 / UNAUTHENTICATED otherwise',
  }),
  OUTLET_API_KEY: text({ usedBy: '`outlet` commands that call a gateway', description: 'the key those commands send (their `--api-key` wins)' }),
  OUTLET_RATE_LIMIT: int(0, 1_000_000, {
    usedBy: 'gateway',
    default: 0,
    shownDefault: '`0` (off)',
    description:
      "requests per window per API key (per client address without one), HTTP and gRPC together, counted in each gateway's memory; 429 with `Retry-After` / RESOURCE_EXHAUSTED past it",
  }),
  OUTLET_RATE_WINDOW_MS: int(100, 3_600_000, { usedBy: 'gateway', default: 1000, description: 'the window of `OUTLET_RATE_LIMIT`' }),
  OUTLET_CORS_ORIGINS: text({
    usedBy: 'gateway',
    shownDefault: 'unset (no CORS headers)',
    description: '`*` or a comma list of origins (`https://app.example.com`) whose browser pages may call the API',
  }),
  OUTLET_JOB_RETENTION: int(1, 1_000_000, { usedBy: 'all', default: 1000, description: 'finished jobs kept per queue' }),
  NODE_ID: text({
    usedBy: 'workers, `npm start`',
    shownDefault: 'the hostname',
    pattern: '^[A-Za-z0-9_.-]{1,64}$',
    error: "may hold only letters, digits, '.', '_' and '-' (64 at most)",
    description: 'the edge node a worker belongs to (letters, digits, `.`, `_`, `-`; 64 at most); a trunk and a branch worker with the same `NODE_ID` form a node',
  }),
  OUTLET_TRUNK_EP: choice(TRUNK_EPS, { usedBy: 'workers', default: 'auto', description: "the trunk's execution provider; `auto`: the first that works, logged (the branch worker reads it for its thread budget)" }),
  OUTLET_TRUNK_THREADS: int(1, 256, { usedBy: 'trunk worker', shownDefault: "from the node's cores (below)", description: 'onnxruntime intra-op threads of the trunk' }),
  OUTLET_TRUNK_CONCURRENCY: int(1, 64, { usedBy: 'trunk worker', default: 1, description: 'tasks a trunk worker runs at once' }),
  OUTLET_BRANCH_THREADS: int(1, 256, { usedBy: 'workers', shownDefault: "from the node's cores (below)", description: 'onnxruntime intra-op threads of the branch worker (the trunk reads it for its fingerprint)' }),
  OUTLET_BRANCH_CONCURRENCY: int(1, 64, { usedBy: 'branch worker', default: 1, description: 'exit-head subjobs a branch worker runs at once' }),
  OUTLET_LOCK_MS: int(1000, 600_000, {
    usedBy: 'workers',
    default: 4000,
    description:
      "how long a worker's claim on a task or subjob lasts without renewal; locks are renewed and stalled jobs checked every `OUTLET_LOCK_MS/2`, so a task held by a worker that died is taken over by a live one within about 1.5 × `OUTLET_LOCK_MS` (6 s by default)",
  }),
  OUTLET_HEARTBEAT_MS: int(100, 60_000, {
    usedBy: 'workers',
    default: HEARTBEAT_INTERVAL_MS,
    description: "how often a node's workers announce themselves; a node is shown stale after 2 missed periods and gone after 5",
  }),
  OUTLET_CACHE_DIR: text({
    usedBy: 'trunk worker, `outlet profile`, `outlet plan`, `outlet transfer`',
    shownDefault: '`$XDG_CACHE_HOME/outlet`, else `~/.cache/outlet`',
    description: "this machine's own profiles and hand-off model, by fingerprint (`profiles/<fingerprint id>/<model>-<digest>.json`; its adapted predictor is in `models/predictors/`)",
  }),
  OUTLET_SELF_PROFILE: choice(ON_OFF, {
    usedBy: 'trunk worker',
    default: 'on',
    description: "`off`: a node without a profile for its fingerprint plans with the package's files and measures nothing",
  }),
  OUTLET_REPLAN_RATIO: num(1.05, 100, {
    usedBy: 'trunk worker',
    default: 1.5,
    description: "re-plan when a stage's observed median runs this many times what the plans assumed, or less than its inverse",
  }),
  OUTLET_KERNEL_PREDICTOR: text({
    usedBy: '`outlet predict`, `outlet plan`, trunk worker',
    shownDefault: "this machine's adapted one, else `models/kernel-predictor.json`",
    description: 'the kernel-level latency predictor file to use',
  }),
  OUTLET_PREDICTOR: text({ usedBy: '`outlet predictor fit`, `outlet predict`', shownDefault: '`models/predictor.json`', description: 'the whole-segment latency predictor file' }),
  OUTLET_AUDIT_RATE: num(0, 1, {
    usedBy: 'trunk worker, gateway',
    default: 0.05,
    description: 'share of answered tasks audited: run on to the final exit behind answering work, every exit recorded (0: none)',
  }),
  OUTLET_AUDIT_MAX_RATE: num(0, 1, {
    usedBy: 'gateway, trunk worker',
    shownDefault: '`0.5` (or `OUTLET_AUDIT_RATE` if higher)',
    description: 'the most the tuner raises the audit rate to while agreement is in doubt (see [Accuracy](accuracy.md))',
  }),
  OUTLET_ACCURACY_BUDGET: num(0.0001, 0.5, {
    usedBy: 'gateway, trunk worker',
    default: 0.01,
    description: "largest share of answers that may disagree with the model's own final exit, held against a Wilson lower bound",
  }),
  OUTLET_ADAPT: choice(ON_OFF, { usedBy: 'gateway, trunk worker', default: 'on', description: '`off`: exit thresholds stay as calibrated offline (audits still run and are shown)' }),
  OUTLET_FEATURE_TRANSPORT: choice(FEATURE_TRANSPORTS, {
    usedBy: 'workers',
    default: 'shm',
    description:
      'how features go from trunk to branch: files in shared memory (`shm`: trunk and branch worker of a node must share a host and that folder) or bytes as Redis values',
  }),
  OUTLET_FEATURE_DIR: text({
    usedBy: 'workers',
    shownDefault: '`/dev/shm/outlet` (the OS temp folder where there is no `/dev/shm`)',
    description: 'root of the feature files; each node uses `<dir>/<NODE_ID>`',
  }),
});

export type Settings = typeof SETTINGS.static;
export type SettingName = keyof Settings;

/** The settings table of docs/settings.md, in Markdown: one row per setting, in the order above. */
export function settingsTable(): string {
  const rows = Object.entries(SETTINGS.properties).map(([name, schema]) => {
    const s = schema as Record<string, unknown>;
    const shown = (s['x-default'] as string | undefined) ?? (s.default !== undefined ? `\`${String(s.default)}\`` : 'unset');
    const allowed =
      s.minimum !== undefined ? ` (${s.minimum}–${s.maximum})` : Array.isArray(s.enum) ? ` (${(s.enum as string[]).map((v) => `\`${v}\``).join(' \\| ')})` : '';
    return `| \`${name}\` | ${s['x-used-by']} | ${shown} | ${s.description}${allowed} |`;
  });
  return ['| variable | used by | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The lines of docs/settings.md between which the table stands. */
export const SETTINGS_TABLE_MARKERS = ['<!-- settings-table:start -->', '<!-- settings-table:end -->'] as const;

/** `page` with the text between the markers replaced by `table` (blank lines around it). */
export function replaceSettingsTable(page: string, table: string): string {
  const [start, end] = SETTINGS_TABLE_MARKERS;
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the page has no ${start} … ${end} lines`);
  return `${page.slice(0, from + start.length)}\n\n${table}\n\n${page.slice(to)}`;
}
