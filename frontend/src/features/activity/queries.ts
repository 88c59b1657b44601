import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, type EventQuery, type TimelineQuery } from '../../api';

export const eventKeys = {
  list: (query: EventQuery) => ['events', 'list', query] as const,
  detail: (id: number) => ['events', 'detail', id] as const,
};

export function useEvents(query: EventQuery) {
  return useQuery({
    queryKey: eventKeys.list(query),
    queryFn: ({ signal }) => api.listEvents(query, signal),
    // Keep the current rows on screen while the next page or filter loads.
    placeholderData: keepPreviousData,
  });
}

export function useEvent(id: number) {
  return useQuery({
    queryKey: eventKeys.detail(id),
    queryFn: ({ signal }) => api.getEvent(id, signal),
  });
}

export function useActorFacets(search: string) {
  return useQuery({
    queryKey: ['facets', 'actors', search],
    queryFn: ({ signal }) => api.actorFacets(search, 20, signal),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });
}

export function useModuleFacets() {
  return useQuery({
    queryKey: ['facets', 'modules'],
    queryFn: ({ signal }) => api.moduleFacets(signal),
    staleTime: 5 * 60_000,
  });
}

export function useActionFacets() {
  return useQuery({
    queryKey: ['facets', 'actions'],
    queryFn: ({ signal }) => api.actionFacets(signal),
    staleTime: 5 * 60_000,
  });
}

export function useTimeline(query: TimelineQuery) {
  return useQuery({
    queryKey: ['events', 'timeline', query],
    queryFn: ({ signal }) => api.timeline(query, signal),
    placeholderData: keepPreviousData,
  });
}
