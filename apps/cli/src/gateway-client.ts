/** Calls from the CLI to a running gateway (`outlet nodes`, `outlet thresholds`). */

export const DEFAULT_URL = 'http://localhost:3000';

/** The gateway's URL without a trailing slash. */
export const base = (url: string) => url.replace(/\/+$/, '');

/** A call to the gateway (with the API key when one is given); a refusal or an unreachable gateway becomes an Error that says which. */
export async function call(method: string, url: string, apiKey: string | undefined): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, { method, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach the gateway at ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? (--url)`);
  }
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${url} answered ${res.status} with no JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${body?.error ?? text.slice(0, 200)}`);
  return body;
}

