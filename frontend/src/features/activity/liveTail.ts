import { useEffect, useEffectEvent, useState } from 'react';
import { api, type AuditEvent, type StreamQuery } from '../../api';

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

export type LiveStatus = 'off' | 'connecting' | 'live' | 'reconnecting';

const RETRY_MS = 3000;

/**
 * Follows GET /events/stream with the given filters while `query` is set, calling `onEvent` for
 * each new activity; reconnects after a drop and resumes after the last event it saw.
 */
export function useLiveTail(query: StreamQuery | null, onEvent: (event: AuditEvent) => void): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('off');
  const deliver = useEffectEvent(onEvent);
  const queryKey = query ? JSON.stringify(query) : null;

  useEffect(() => {
    if (queryKey === null) return;
    const streamQuery = JSON.parse(queryKey) as StreamQuery;
    const controller = new AbortController();
    let lastId: string | null = null;
    let timer: number | undefined;

    const connect = async (attempt: number) => {
      setStatus(attempt === 0 ? 'connecting' : 'reconnecting');
      try {
        const body = await api.streamEvents(
          lastId ? { ...streamQuery, last_event_id: Number(lastId) } : streamQuery,
          controller.signal,
        );
        setStatus('live');
        const reader = body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const parsed = parseEventStream(buffer + value);
          buffer = parsed.rest;
          for (const message of parsed.events) {
            if (message.id) lastId = message.id;
            if (message.event === 'activity') deliver(JSON.parse(message.data) as AuditEvent);
          }
        }
      } catch {
        // Dropped or refused: retried below unless the effect was cleaned up.
      }
      if (!controller.signal.aborted) {
        setStatus('reconnecting');
        timer = window.setTimeout(() => connect(attempt + 1), RETRY_MS);
      }
    };
    connect(0);

    return () => {
      controller.abort();
      window.clearTimeout(timer);
      setStatus('off');
    };
  }, [queryKey]);

  return queryKey === null ? 'off' : status;
}
