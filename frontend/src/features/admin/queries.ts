import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Verification, type VerificationRun } from '../../api';

export const adminKeys = {
  users: ['admin', 'users'] as const,
  tokens: ['admin', 'tokens'] as const,
  retention: ['admin', 'retention'] as const,
  fieldVisibility: ['admin', 'field-visibility'] as const,
  archives: ['admin', 'archives'] as const,
  integrity: ['admin', 'integrity'] as const,
  integrityStatus: ['admin', 'integrity-status'] as const,
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

export function useFieldVisibility() {
  return useQuery({ queryKey: adminKeys.fieldVisibility, queryFn: ({ signal }) => api.getFieldVisibility(signal) });
}

export function useArchives() {
  return useQuery({ queryKey: adminKeys.archives, queryFn: ({ signal }) => api.listArchives(signal) });
}

/**
 * This session's last verification of the log. It recomputes the whole tenant tree, so it never
 * runs by itself: `refetch()` is "Verify now", and the result stays cached until sign-out. The
 * server stores each run, so the stored status is fetched again after it.
 */
export function useIntegrityCheck() {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: adminKeys.integrity,
    queryFn: async () => {
      const result = await api.verifyIntegrity();
      void queryClient.invalidateQueries({ queryKey: adminKeys.integrityStatus });
      return result;
    },
    enabled: false,
    staleTime: Infinity,
    gcTime: Infinity,
  });
}

/** The latest signed checkpoint and the last verification the server stored (any trigger). */
export function useIntegrityStatus() {
  return useQuery({
    queryKey: adminKeys.integrityStatus,
    queryFn: ({ signal }) => api.integrityStatus(signal),
    staleTime: 60_000,
  });
}

/** What a verification badge needs; both a fresh result and a stored run have it. */
export type VerificationSummary = Pick<
  Verification,
  'ok' | 'checked_at' | 'events_checked' | 'checkpoints_checked' | 'first_bad_seq' | 'reason'
>;

/** The newer of this session's verification and the last stored run (this session's on a tie). */
export function newestVerification(
  session: Verification | undefined,
  stored: VerificationRun | null | undefined,
): VerificationSummary | undefined {
  if (!stored) return session;
  if (!session) return stored;
  return Date.parse(stored.checked_at) > Date.parse(session.checked_at) ? stored : session;
}
