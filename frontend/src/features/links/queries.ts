import { useQuery } from '@tanstack/react-query';
import { api } from '../../api';

export const linkKeys = {
  settings: ['settings', 'record-links'] as const,
};

/** The tenant's links into the host application; rarely changed, so kept for a while. */
export function useRecordLinks() {
  return useQuery({
    queryKey: linkKeys.settings,
    queryFn: ({ signal }) => api.getRecordLinks(signal),
    staleTime: 5 * 60_000,
  });
}
