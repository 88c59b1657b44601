import { useQuery } from '@tanstack/react-query';
import { api } from '../../api';

export const adminKeys = {
  users: ['admin', 'users'] as const,
  tokens: ['admin', 'tokens'] as const,
  retention: ['admin', 'retention'] as const,
  archives: ['admin', 'archives'] as const,
  integrity: ['admin', 'integrity'] as const,
};

export function useUsers() {
  return useQuery({ queryKey: adminKeys.users, queryFn: ({ signal }) => api.listUsers(signal) });
}

export function useTokens() {
  return useQuery({ queryKey: adminKeys.tokens, queryFn: ({ signal }) => api.listTokens(signal) });
}

export function useRetention() {
  return useQuery({ queryKey: adminKeys.retention, queryFn: ({ signal }) => api.getRetention(signal) });
}

export function useArchives() {
  return useQuery({ queryKey: adminKeys.archives, queryFn: ({ signal }) => api.listArchives(signal) });
}

/**
 * The last chain verification. It recomputes the whole tenant chain, so it never runs by itself:
 * `refetch()` is "Verify now", and the result stays cached until sign-out.
 */
export function useIntegrityCheck() {
  return useQuery({
    queryKey: adminKeys.integrity,
    queryFn: () => api.verifyIntegrity(),
    enabled: false,
    staleTime: Infinity,
    gcTime: Infinity,
  });
}
