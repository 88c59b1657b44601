import { describe, expect, it } from 'vitest';
import { parseEventStream } from './liveTail';

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
