import { useInfiniteQuery } from '@tanstack/react-query';
import { api } from '../../api';
import { toEventQuery, type ActivityView } from '../activity/filterSchema';

const PAGE_SIZE = 25;

/** The filters of a history request: the activity list's, without its sort and paging. */
export function historyFilters(view: ActivityView, timeZone: string) {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { page, per_page, sort, order, ...filters } = toEventQuery(view, timeZone);
  return filters;
}

/**
 * A record's timeline with the view's filters, newest first: the first page with its total and
 * hidden count, the next ones by cursor.
 */
export function useRecordHistory(type: string, id: string, view: ActivityView, timeZone: string) {
  const filters = historyFilters(view, timeZone);
  return useInfiniteQuery({
    queryKey: ['history', type, id, filters],
    queryFn: ({ pageParam, signal }) =>
      api.entityHistory(type, id, { ...filters, per_page: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}
