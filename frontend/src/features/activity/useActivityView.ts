import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import {
  DEFAULT_VIEW,
  EMPTY_FILTERS,
  parseView,
  serializeView,
  VIEW_PARAMS,
  type ActivityFilters,
  type ActivityView,
} from './filterSchema';

const FILTER_KEYS = Object.keys(EMPTY_FILTERS) as (keyof ActivityFilters)[];

/** Keeps URL parameters the view does not own (such as an open event's id). */
function withOthers(prev: URLSearchParams, view: URLSearchParams, drop: string[] = []): URLSearchParams {
  const next = new URLSearchParams(view);
  prev.forEach((value, key) => {
    if (!(VIEW_PARAMS as readonly string[]).includes(key) && !drop.includes(key)) next.append(key, value);
  });
  return next;
}

/**
 * The activity view (filters, sort, page, page size) read from and written to the URL, so a
 * view survives a reload, can be shared, and follows the browser's back and forward buttons.
 */
export function useActivityView() {
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => parseView(params), [params]);

  /** Applies a change; a new filter, sort or page size goes back to page 1. */
  const update = useCallback(
    (patch: Partial<ActivityView>, options: { replace?: boolean } = {}) => {
      setParams(
        (prev) => {
          const current = parseView(prev);
          const next = { ...current, ...patch };
          const resetsPage = FILTER_KEYS.some((key) => key in patch) || 'sort' in patch || 'order' in patch || 'perPage' in patch;
          if (resetsPage && !('page' in patch)) next.page = 1;
          return withOthers(prev, serializeView(next));
        },
        { replace: options.replace },
      );
    },
    [setParams],
  );

  /** Clears filters, sort and page; the page size and the All/Mine switch are preferences and stay. */
  const reset = useCallback(() => {
    setParams((prev) => {
      const { perPage, scope } = parseView(prev);
      return withOthers(prev, serializeView({ ...DEFAULT_VIEW, perPage, scope }));
    });
  }, [setParams]);

  return { view, update, reset };
}
