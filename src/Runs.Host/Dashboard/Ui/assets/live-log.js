// Follows a run's log over GET …/log/stream (Server-Sent Events). EventSource cannot send an
// Authorization header, so the stream is read with fetch(); a dropped connection is resumed with
// Last-Event-ID set to the last line received, which the API answers with exactly the lines after it.
import { ApiError, failed, token } from './api.js';
import { sleep } from './dom.js';

/**
 * Calls onLines(lines) with each batch of new lines, onState(state) once when the run has ended, and
 * onConnection(what, detail) as the connection changes ('live', 'reconnecting', 'ended', 'expired', 'error').
 * Stops when signal aborts.
 */
export async function followLog({ address, onLines, onState, onConnection, signal }) {
  let last = 0;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token()}` };
      if (last > 0) headers['Last-Event-ID'] = String(last);
      const response = await fetch(address, { headers, signal, cache: 'no-store' });
      if (!response.ok) throw await failed(response);
      onConnection('live');
      failures = 0;
      const ended = await read(response.body, {
        onLines: lines => {
          const fresh = lines.filter(line => line.id > last);
          if (fresh.length === 0) return;
          last = fresh[fresh.length - 1].id;
          onLines(fresh);
        },
        onState,
      });
      if (ended) {
        onConnection('ended');
        return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status === 410) {
        onConnection('expired', error);
        return;
      }
      // Client errors will not mend by retrying; network errors, 429 and 5xx may.
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        onConnection('error', error);
        return;
      }
    }
    onConnection('reconnecting');
    await sleep(Math.min(10_000, 500 * 2 ** failures++), signal);
  }
}

/** Reads events until the stream closes; true when it closed after the run's final state. */
async function read(body, { onLines, onState }) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    const batch = [];
    let ended = null;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (event.type === 'log' && event.data.length) batch.push(JSON.parse(event.data.join('\n')));
        else if (event.type === 'state' && event.data.length) ended = JSON.parse(event.data.join('\n'));
        event = { type: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.type = text;
      else if (field === 'data') event.data.push(text);
    }
    if (batch.length) onLines(batch);
    if (ended) {
      onState(ended);
      await reader.cancel();
      return true;
    }
  }
}
