/**
 * Server-sent events (the `text/event-stream` format of the HTML standard) as pure functions: the
 * framing of one event, and whether a request's Accept header asks for a stream.
 */

export const EVENT_STREAM = 'text/event-stream';

/**
 * One event: `event:` and `id:` lines, one `data:` line per line of `data` (a reader joins them
 * with "\n" again), and the blank line that ends it.
 */
export function sseEvent(event: string, data: string, id?: string): string {
  // A field's value ends at the first line break: an event name or id with one would split it.
  for (const [field, value] of [['event', event], ['id', id]]) {
    if (value !== undefined && /[\r\n\0]/.test(value)) throw new Error(`an SSE ${field} cannot hold a line break or NUL: ${JSON.stringify(value)}`);
  }
  const lines = [`event: ${event}`];
  if (id !== undefined) lines.push(`id: ${id}`);
  for (const line of data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  return `${lines.join('\n')}\n\n`;
}

/**
 * The Accept header names `text/event-stream` (any case, with parameters, but not at q=0). Only by
 * name: a client that accepts any media type (fetch's default Accept) expects one JSON body, not a stream.
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    if (type !== EVENT_STREAM) return false;
    const q = params.find((p) => /^q\s*=/.test(p));
    return q === undefined || Number(q.replace(/^q\s*=\s*/, '')) > 0;
  });
}
