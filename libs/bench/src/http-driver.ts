import { Agent, createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '@outlet/onnx-cost';
import { LabelledRequest } from './request-set';

/** What the harness keeps of one answered request. */
export interface Sample {
  latencyMs: number;
  correct: boolean;
  exitIndex: number;
  exitWorker: string;
  /** The trunk's own record (in process; from the job's telemetry in the system). */
  trunkSegmentsRun?: number;
  wastedSegments?: number;
  plan: string;
  /** From the exit decision to the answer in the gateway (system only). */
  deliveryMs?: number;
  /** The system's other stages (system only): request received → enqueued, enqueued → trunk start, and the client's share (latency − the gateway's total). */
  ingressMs?: number;
  queueMs?: number;
  clientMs?: number;
  cpuUtil?: number;
  /** The trunk's execution provider (as the answer says). */
  trunkEp?: string;
  taskId: string;
}

export interface RunResult {
  samples: Sample[];
  wallMs: number;
  errors: string[];
}

/** Request bodies are encoded once, before any clock starts. */
export function encodeBodies(requests: LabelledRequest[], shape: number[], inputName: string, parameters: Record<string, unknown>): string[] {
  return requests.map((r, i) =>
    JSON.stringify({ id: `bench-${i}`, inputs: [{ name: inputName, shape, datatype: 'FP32', data: Array.from(r.pixels) }], parameters }),
  );
}

/** Keep-alive connections, as a real client would hold them; node:http costs less per call than fetch. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP exchange on the kept-alive agent; a JSON body when given. `timeoutMs` aborts a reply that never comes. */
export function httpRequest(method: 'GET' | 'POST', url: string, body?: string, timeoutMs?: number): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(url, { method, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function post(url: string, body: string): Promise<{ status: number; text: string }> {
  return httpRequest('POST', url, body);
}

/** One retry when a kept-alive socket was closed under the request (it never reached the server). */
async function postOnce(url: string, body: string) {
  try {
    return await post(url, body);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || /socket hang up/.test((err as Error).message)) return post(url, body);
    throw err;
  }
}

async function send(url: string, body: string, label: number): Promise<Sample | string> {
  const started = performance.now();
  const { status, text } = await postOnce(url, body);
  const latencyMs = performance.now() - started;
  if (status !== 200) return `${status}: ${text.slice(0, 200)}`;
  const p = JSON.parse(text).parameters;
  return {
    latencyMs,
    correct: Number(p.label) === label,
    exitIndex: p.exit_index,
    exitWorker: p.exit_worker,
    deliveryMs: p.delivery_ms,
    ingressMs: p.ingress_ms,
    queueMs: p.queue_ms,
    clientMs: latencyMs - p.total_ms,
    plan: p.plan,
    cpuUtil: p.cpu_util,
    trunkEp: p.trunk_ep,
    taskId: p.task_id,
  };
}

function collect(outcomes: (Sample | string)[], wallMs: number): RunResult {
  return {
    samples: outcomes.filter((o): o is Sample => typeof o !== 'string'),
    errors: outcomes.filter((o): o is string => typeof o === 'string'),
    wallMs,
  };
}

/** Closed loop: `concurrency` clients, each sends its next request when the last one answers. */
export async function closedLoop(url: string, bodies: string[], labels: number[], concurrency: number): Promise<RunResult> {
  const outcomes: (Sample | string)[] = new Array(bodies.length);
  let next = 0;
  const started = performance.now();
  const client = async () => {
    for (let i = next++; i < bodies.length; i = next++) outcomes[i] = await send(url, bodies[i], labels[i]);
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return collect(outcomes, performance.now() - started);
}

/** Open loop: requests leave at a fixed rate whatever the answers do (latency includes queueing). */
export async function openLoop(url: string, bodies: string[], labels: number[], ratePerSecond: number): Promise<RunResult> {
  const interval = 1000 / ratePerSecond;
  const started = performance.now();
  const pending: Promise<Sample | string>[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(url, bodies[i], labels[i]));
  }
  const outcomes = await Promise.all(pending);
  return collect(outcomes, performance.now() - started);
}

/** The order of `n` variants for request i: a seeded shuffle, so no variant always follows another. */
export function variantOrder(n: number, i: number): number[] {
  const random = seededRandom(i + 1);
  const order = Array.from({ length: n }, (_, k) => k);
  for (let k = n - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [order[k], order[j]] = [order[j], order[k]];
  }
  return order;
}

/**
 * Closed loop at concurrency 1 over several variants (plans or strategies) of the same requests,
 * interleaved: request i is sent in every variant, in a shuffled order, before request i+1. Drift
 * (caches, garbage collection, other work) and the leftovers of one variant (a branch head still
 * running after its task was answered) then fall on every variant alike.
 */
export async function interleavedLoop(url: string, variants: string[][], labels: number[]): Promise<RunResult[]> {
  const outcomes = variants.map(() => [] as (Sample | string)[]);
  const wall = variants.map(() => 0);
  for (let i = 0; i < labels.length; i++) {
    for (const v of variantOrder(variants.length, i)) {
      const started = performance.now();
      outcomes[v].push(await send(url, variants[v][i], labels[i]));
      wall[v] += performance.now() - started;
    }
  }
  return outcomes.map((o, v) => collect(o, wall[v]));
}

/**
 * The floor under any HTTP + JSON front end on this machine: the same request bodies posted with
 * the same client to a bare node:http server in this process that parses them and answers a
 * small JSON object. Returns the p50 round trip, ms.
 */
export async function bareHttpFloorP50(bodies: string[], rounds = 3): Promise<number> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: string };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: parsed.id, outputs: [{ data: new Array(10).fill(0.1) }], parameters: {} }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const times: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const body of bodies) {
        const started = performance.now();
        await post(url, body);
        if (r > 0) times.push(performance.now() - started); // the first round warms up
      }
    }
  } finally {
    server.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
