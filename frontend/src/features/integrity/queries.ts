import { useQuery } from '@tanstack/react-query';
import { api, ApiError, type Checkpoint } from '../../api';

export const integrityKeys = {
  checkpoint: ['integrity', 'checkpoint'] as const,
  publicKey: ['integrity', 'public-key'] as const,
};

/** How long the latest checkpoint is reused: one is signed within a minute of new events. */
const CHECKPOINT_STALE_MS = 30_000;

/** The latest signed checkpoint, or null while nothing is signed yet (the server's 404). */
async function latestCheckpoint(signal: AbortSignal): Promise<Checkpoint | null> {
  try {
    return await api.latestCheckpoint(signal);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/**
 * The latest signed checkpoint (null when none is signed yet). With `awaitSeq`, it is fetched
 * again every 30 s until it includes that sequence.
 */
export function useLatestCheckpoint({ awaitSeq }: { awaitSeq?: number } = {}) {
  return useQuery({
    queryKey: integrityKeys.checkpoint,
    queryFn: ({ signal }) => latestCheckpoint(signal),
    staleTime: CHECKPOINT_STALE_MS,
    refetchInterval: (query) =>
      awaitSeq !== undefined && query.state.status === 'success' && (query.state.data?.tree_size ?? 0) < awaitSeq
        ? CHECKPOINT_STALE_MS
        : false,
  });
}

/** The checkpoints' verifier key text, trimmed. */
export function usePublicKey() {
  return useQuery({
    queryKey: integrityKeys.publicKey,
    queryFn: async ({ signal }) => (await api.publicKey(signal)).trim(),
    staleTime: 5 * 60_000,
  });
}
