import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asTimeZone } from '../../api';
import { sessionStore } from '../auth/sessionStore';
import { demoUser, makeEvent } from '../../test/fixtures';
import { eventStream, problem, sse, stubApi, tooManyRequests } from '../../test/renderWithProviders';
import { parseEventStream, useLiveTail } from './liveTail';

describe('parseEventStream', () => {
  it('parses complete events and keeps the unfinished rest', () => {
    const { events, rest } = parseEventStream(
      'retry: 3000\n: connected\n\nid: 7\nevent: activity\ndata: {"id":7}\n\nid: 8\nevent: act',
    );
    expect(events).toEqual([{ id: '7', event: 'activity', data: '{"id":7}' }]);
    expect(rest).toBe('id: 8\nevent: act');
    expect(parseEventStream(rest + 'ivity\ndata: {"id":8}\n\n').events).toEqual([
      { id: '8', event: 'activity', data: '{"id":8}' },
    ]);
  });

  it('ignores comments and keep-alives, joins multi-line data and accepts CRLF', () => {
    const { events } = parseEventStream(': ping\n\ndata: a\r\ndata: b\r\n\r\n');
    expect(events).toEqual([{ id: null, event: 'message', data: 'a\nb' }]);
  });
});

const signIn = (token: string) =>
  sessionStore.signIn({ access_token: token, token_type: 'Bearer', expires_in: 3600, user: demoUser });

/** Lets `ms` of (fake) time pass, with the fetches and stream reads they let through. */
const pass = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms));

/**
 * The live tail of all activity, with the stream requests made and the Authorization of each. From
 * the 20th request on the stream stays open, so a tail reconnecting in a loop fails the test rather
 * than hanging it.
 */
function follow(answer: (call: number, request: Request) => Response) {
  const streams: { url: URL; authorization: string | null }[] = [];
  stubApi({
    '/api/v1/events/stream': (url, request) => {
      streams.push({ url, authorization: request.headers.get('Authorization') });
      return streams.length < 20 ? answer(streams.length, request) : eventStream(request, [], { open: true });
    },
  });
  const onEvent = vi.fn();
  const { result } = renderHook(() => useLiveTail({ tz: asTimeZone('Europe/London') }, onEvent));
  return { streams, onEvent, result };
}

describe('useLiveTail', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    signIn('test-token');
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers new activity and resumes after the last one when the stream drops', async () => {
    const { streams, onEvent, result } = follow((call, request) =>
      call === 1 ? eventStream(request, [sse.activity(makeEvent(7))]) : eventStream(request, [], { open: true }),
    );
    await pass(0);
    expect(onEvent).toHaveBeenCalledWith(expect.objectContaining({ id: 7 }));
    expect(result.current).toEqual({ status: 'reconnecting', problem: null });
    await pass(3000);
    expect(streams.map((s) => s.url.searchParams.get('last_event_id'))).toEqual([null, '7']);
    expect(result.current.status).toBe('live');
  });

  it('stops and signs out with the notice when the stream ends with a 401', async () => {
    const { streams, result } = follow((_call, request) =>
      eventStream(request, [sse.error(401, 'Unauthorized', 'the session was signed out')]),
    );
    await pass(0);
    expect(sessionStore.getState()).toEqual({ session: null, notice: 'Your session has expired. Please sign in again.' });
    expect(result.current).toEqual({ status: 'stopped', problem: 'the session was signed out' });
    await pass(60_000);
    expect(streams).toHaveLength(1);
  });

  it('follows with the new token when the 401 is for a token the session has replaced (own password change)', async () => {
    const { streams, result } = follow((call, request) => {
      if (call > 1) return eventStream(request, [], { open: true });
      signIn('new-token');
      return eventStream(request, [sse.error(401, 'Unauthorized', 'the password changed')]);
    });
    await pass(0);
    expect(streams.map((s) => s.authorization)).toEqual(['Bearer test-token', 'Bearer new-token']);
    expect(sessionStore.token()).toBe('new-token');
    expect(result.current.status).toBe('live');
  });

  it('reconnects at once after a 403 (a new role) and follows the new view', async () => {
    const { streams, onEvent, result } = follow((call, request) =>
      call === 1
        ? eventStream(request, [sse.activity(makeEvent(7)), sse.error(403, 'Forbidden', 'your role or actor id changed')])
        : eventStream(request, [sse.activity(makeEvent(8))], { open: true }),
    );
    await pass(0);
    expect(streams.map((s) => s.url.searchParams.get('last_event_id'))).toEqual([null, '7']);
    expect(onEvent.mock.calls.map(([event]) => event.id)).toEqual([7, 8]);
    expect(result.current.status).toBe('live');
    expect(sessionStore.token()).toBe('test-token');
  });

  it('stops with the detail when the reconnection after a 403 is refused again', async () => {
    const { streams, result } = follow((call, request) =>
      call === 1
        ? eventStream(request, [sse.error(403, 'Forbidden', 'your role or actor id changed')])
        : problem(403, 'Forbidden', 'members see their own activity only'),
    );
    await pass(0);
    expect(result.current).toEqual({ status: 'stopped', problem: 'members see their own activity only' });
    await pass(60_000);
    expect(streams).toHaveLength(2);
  });

  it('stops with the detail when the stream after a 403 ends with a 403 again', async () => {
    const { streams, result } = follow((_call, request) =>
      eventStream(request, [sse.error(403, 'Forbidden', 'your role or actor id changed')]),
    );
    await pass(0);
    expect(result.current).toEqual({ status: 'stopped', problem: 'your role or actor id changed' });
    await pass(60_000);
    expect(streams).toHaveLength(2);
  });

  it('pauses on a 429 and tries again after Retry-After, then waiting longer each time', async () => {
    const refusals = [30, 1, 1];
    const { streams, result } = follow((call, request) =>
      call <= refusals.length
        ? tooManyRequests('you have 5 live streams open already: close one first', refusals[call - 1])
        : eventStream(request, [], { open: true }),
    );
    await pass(0);
    expect(result.current).toEqual({ status: 'throttled', problem: null });
    // Retry-After (30 s) is longer than the first back-off (5 s).
    await pass(29_900);
    expect(streams).toHaveLength(1);
    await pass(100);
    expect(streams).toHaveLength(2);
    // Then the back-off, doubled: 10 s, 20 s.
    await pass(9_900);
    expect(streams).toHaveLength(2);
    await pass(100);
    expect(streams).toHaveLength(3);
    await pass(19_900);
    expect(streams).toHaveLength(3);
    expect(result.current.status).toBe('throttled');
    await pass(100);
    expect(streams).toHaveLength(4);
    expect(result.current).toEqual({ status: 'live', problem: null });
  });
});
