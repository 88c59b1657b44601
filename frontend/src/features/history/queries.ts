import { useInfiniteQuery } from '@tanstack/react-query';
import { api, asTimeZone } from '../../api';

const PAGE_SIZE = 25;

/** A record's timeline, newest first, fetched a page at a time by cursor. */
export function useRecordHistory(type: string, id: string, timeZone: string) {
  return useInfiniteQuery({
    queryKey: ['history', type, id, timeZone],
    queryFn: ({ pageParam, signal }) =>
      api.entityHistory(
        type,
        id,
        { per_page: PAGE_SIZE, tz: asTimeZone(timeZone), ...(pageParam ? { cursor: pageParam } : {}) },
        signal,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}
