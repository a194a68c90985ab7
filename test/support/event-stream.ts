import { nowMs } from '@outlet/contracts';

/** One server-sent event as a client reads it, with the wall clock (ms) when its last byte came. */
export interface ReadEvent {
  event: string;
  id?: string;
  data: string;
  at: number;
}

/**
 * Read a `text/event-stream` body to its end, event by event (the fields Outlet sends: event, id,
 * data; comments and other fields are skipped).
 */
export async function readEventStream(body: ReadableStream<Uint8Array>): Promise<ReadEvent[]> {
  const events: ReadEvent[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    const at = nowMs();
    buffered += decoder.decode(chunk, { stream: true });
    for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const event: ReadEvent = { event: 'message', data: '', at };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') data.push(value);
      }
      event.data = data.join('\n');
      events.push(event);
    }
  }
  if (buffered.trim() !== '') throw new Error(`the stream ended inside an event: ${JSON.stringify(buffered)}`);
  return events;
}
