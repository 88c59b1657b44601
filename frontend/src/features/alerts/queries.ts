import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, type AlertDelivery } from '../../api';

export const alertKeys = {
  /** Everything about alerts: invalidated after any change to a rule or a delivery. */
  all: ['admin', 'alerts'] as const,
  rules: ['admin', 'alerts', 'rules'] as const,
  rule: (id: number) => ['admin', 'alerts', 'rule', id] as const,
  deliveries: (ruleId: number) => ['admin', 'alerts', 'deliveries', ruleId] as const,
};

export const DELIVERY_PAGE_SIZE = 25;
/** How often the deliveries are fetched again while one waits to be sent, and otherwise. */
const PENDING_REFRESH_MS = 3_000;
const IDLE_REFRESH_MS = 30_000;

export function useAlertRules() {
  return useQuery({ queryKey: alertKeys.rules, queryFn: ({ signal }) => api.listAlertRules(signal) });
}

/** One rule; `null` (an address that names no rule) asks for nothing. */
export function useAlertRule(id: number | null) {
  return useQuery({
    queryKey: alertKeys.rule(id ?? 0),
    queryFn: ({ signal }) => api.getAlertRule(id ?? 0, signal),
    enabled: id !== null,
  });
}

const hasPending = (items: AlertDelivery[]) => items.some((d) => d.status === 'pending');

/**
 * A rule's deliveries, newest first, a page at a time ("Load older" asks for the next). They are
 * fetched again every few seconds while one is still pending, so its outcome shows by itself.
 */
export function useDeliveries(ruleId: number) {
  return useInfiniteQuery({
    queryKey: alertKeys.deliveries(ruleId),
    queryFn: ({ pageParam, signal }) =>
      api.alertDeliveries(ruleId, { limit: DELIVERY_PAGE_SIZE, ...(pageParam ? { before: pageParam } : {}) }, signal),
    initialPageParam: 0,
    getNextPageParam: (last) => last.next_before ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => hasPending(page.items)) ? PENDING_REFRESH_MS : IDLE_REFRESH_MS,
  });
}
