import { useEffect, useEffectEvent, useState } from 'react';
import { api, ApiError, toApiError, type AuditEvent, type LiveStream, type StreamQuery } from '../../api';

export interface ServerSentEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Splits a text/event-stream chunk buffer into complete events and the unfinished rest. */
export function parseEventStream(buffer: string): { events: ServerSentEvent[]; rest: string } {
  const blocks = buffer.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: ServerSentEvent[] = [];
  for (const block of blocks) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ id, event, data: data.join('\n') });
  }
  return { events, rest };
}

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting' | 'throttled' | 'stopped';

export interface LiveTail {
  status: LiveStatus;
  /** Why the tail stopped (`stopped`), as the server explained it. */
  problem: string | null;
}

const OFF: LiveTail = { status: 'off', problem: null };

/** The wait before connecting again after a dropped stream. */
const RETRY_MS = 3000;
/** After a 429 (too many streams open): the first wait, doubled on each further 429 up to the last. */
const THROTTLED_MS = 5000;
const THROTTLED_MAX_MS = 120_000;
/** A 403 this soon after the one that made the tail reconnect means reconnecting does not help. */
const FORBIDDEN_AGAIN_MS = 60_000;

/** The problem an `event: error` carries (a 500 when its data is not a problem document). */
function streamProblem(data: string): ApiError {
  let problem: unknown = null;
  try {
    problem = JSON.parse(data);
  } catch {
    // Not JSON: reported as a server failure below.
  }
  const status = (problem as { status?: unknown } | null)?.status;
  return toApiError(typeof status === 'number' ? status : 500, 'The live stream failed', problem);
}

/**
 * Follows GET /events/stream with the given filters while `query` is set, calling `onEvent` for
 * each new activity; reconnects after a drop and resumes after the last event it saw.
 *
 * The server ends a stream with an `error` event when the caller no longer holds: a 401 (signed
 * out, expired, password changed, deactivated) signs out as any 401 does; a 403 (role or actor id
 * changed) reconnects once to get the new view, and stops with the server's detail when that fails
 * too. Too many streams open (429) pauses the tail and tries again later, waiting longer each time.
 */
export function useLiveTail(query: StreamQuery | null, onEvent: (event: AuditEvent) => void): LiveTail {
  const [tail, setTail] = useState<LiveTail>(OFF);
  const deliver = useEffectEvent(onEvent);
  const queryKey = query ? JSON.stringify(query) : null;

  useEffect(() => {
    if (queryKey === null) return;
    const streamQuery = JSON.parse(queryKey) as StreamQuery;
    const controller = new AbortController();
    let lastId: string | null = null;
    let timer: number | undefined;
    let throttled = 0;
    let forbiddenAt = -Infinity;

    const stop = (error: ApiError) => setTail({ status: 'stopped', problem: error.userMessage });
    const retry = (status: LiveStatus, ms: number) => {
      setTail({ status, problem: null });
      timer = window.setTimeout(() => connect(true), ms);
    };

    const connect = async (again: boolean) => {
      setTail({ status: again ? 'reconnecting' : 'connecting', problem: null });
      let stream: LiveStream | null = null;
      let ended: unknown = null;
      try {
        stream = await api.streamEvents(
          lastId ? { ...streamQuery, last_event_id: Number(lastId) } : streamQuery,
          controller.signal,
        );
        throttled = 0;
        setTail({ status: 'live', problem: null });
        const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        while (ended === null) {
          const { value, done } = await reader.read();
          if (done) break;
          const parsed = parseEventStream(buffer + value);
          buffer = parsed.rest;
          for (const message of parsed.events) {
            if (message.id) lastId = message.id;
            if (message.event === 'activity') deliver(JSON.parse(message.data) as AuditEvent);
            else if (message.event === 'error') ended = streamProblem(message.data);
          }
        }
        if (ended !== null) void reader.cancel();
      } catch (error) {
        // Refused or dropped: decided below unless the effect was cleaned up.
        ended = error;
      }
      if (controller.signal.aborted) return;

      // A connection refused with a 401 answer (no stream) was handled as any 401 answer is.
      if (!(ended instanceof ApiError)) {
        retry('reconnecting', RETRY_MS);
      } else if (ended.status === 401 && stream) {
        // Signed out: the page goes away. Still signed in: the session has a new token, follow with it.
        if (stream.refused()) stop(ended);
        else connect(true);
      } else if (ended.status === 403) {
        // The role or actor id changed: a new stream shows the new view, unless it is refused too.
        if (!stream || Date.now() - forbiddenAt < FORBIDDEN_AGAIN_MS) {
          stop(ended);
        } else {
          forbiddenAt = Date.now();
          connect(true);
        }
      } else if (ended.status === 429) {
        throttled += 1;
        const backoff = Math.min(THROTTLED_MS * 2 ** (throttled - 1), THROTTLED_MAX_MS);
        retry('throttled', Math.max(backoff, (ended.retryAfter ?? 0) * 1000));
      } else {
        retry('reconnecting', RETRY_MS);
      }
    };
    connect(false);

    return () => {
      controller.abort();
      window.clearTimeout(timer);
      setTail(OFF);
    };
  }, [queryKey]);

  return queryKey === null ? OFF : tail;
}
