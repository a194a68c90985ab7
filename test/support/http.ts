/** Small HTTP helpers over Node's fetch for end-to-end tests. */
export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. the Bull Board page)
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const post = <T = any>(url: string, body?: unknown, headers?: Record<string, string>) => request<T>('POST', url, body, headers);
export const get = <T = any>(url: string, headers?: Record<string, string>) => request<T>('GET', url, undefined, headers);

/** Poll an asynchronous job until it leaves the queue's waiting/active states. */
export async function waitForJob(baseUrl: string, id: string, timeoutMs = 30_000, headers?: Record<string, string>): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get(`${baseUrl}/v1/jobs/${id}`, headers);
    if (res.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (res.body.state === 'completed' || res.body.state === 'failed') return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
