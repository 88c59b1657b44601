import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, type FlagSummaryQuery } from '../../api';

export const reviewKeys = {
  summary: (query: FlagSummaryQuery) => ['events', 'flag-summary', query] as const,
  settings: ['admin', 'review-settings'] as const,
};

/** Flagged events by kind. Under `events`, so whatever refreshes the list refreshes it too. */
export function useFlagSummary(query: FlagSummaryQuery) {
  return useQuery({
    queryKey: reviewKeys.summary(query),
    queryFn: ({ signal }) => api.flagSummary(query, signal),
    placeholderData: keepPreviousData,
  });
}

export function useReviewSettings() {
  return useQuery({ queryKey: reviewKeys.settings, queryFn: ({ signal }) => api.getReviewSettings(signal) });
}
