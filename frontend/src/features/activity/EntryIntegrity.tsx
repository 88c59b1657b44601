import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, type AuditEvent, type Verification } from '../../api';
import { Button } from '../../components/Button';
import { countOf } from '../../components/countOf';
import { errorMessage } from '../../components/errorMessage';
import { Alert } from '../../components/States';
import { adminKeys } from '../admin/queries';
import { ProofCheck } from '../integrity/ProofCheck';
import { useLatestCheckpoint } from '../integrity/queries';
import { formatDateTime } from '../timezone/timeZone';

/** Whether the latest signed checkpoint includes the entry, as far as this page knows. */
function CheckpointInclusion({ seq, timeZone }: { seq: number; timeZone: string }) {
  // Polled until a checkpoint includes the entry: one is signed within a minute.
  const checkpoint = useLatestCheckpoint({ awaitSeq: seq });
  if (checkpoint.data === undefined) {
    if (checkpoint.isError) {
      return (
        <span className="muted" title={errorMessage(checkpoint.error)}>
          Unknown: the latest checkpoint could not be loaded.
        </span>
      );
    }
    return <span className="muted">Looking up the latest checkpoint…</span>;
  }
  const latest = checkpoint.data;
  if (latest && latest.tree_size >= seq) {
    return (
      <>
        Included in checkpoint {latest.tree_size}, signed {formatDateTime(latest.signed_at, timeZone, true)}
      </>
    );
  }
  return <span className="muted">Not yet in a signed checkpoint — one is signed within a minute of an event’s arrival.</span>;
}

/** What a verification of the whole log says about the entry at `seq`. */
function VerificationStatus({ result, seq, timeZone }: { result: Verification; seq: number; timeZone: string }) {
  const reason = result.reason ? ` (${result.reason})` : '';
  const checked = `${countOf(result.events_checked, 'event')} checked at ${formatDateTime(result.checked_at, timeZone, true)}.`;
  const checkpoints = `${countOf(result.checkpoints_checked, 'signed checkpoint')} matched`;
  if (!result.ok) {
    const bad = result.first_bad_seq;
    if (bad == null || bad <= seq) {
      return (
        <Alert>
          The log does not verify{bad == null ? '' : ` from sequence ${bad}`}
          {reason}: this entry cannot be vouched for.
        </Alert>
      );
    }
    return (
      <Alert>
        The log does not verify from sequence {bad}
        {reason}, after this entry: the tree up to it recomputes to the signed checkpoints ({checkpoints}). {checked}
      </Alert>
    );
  }
  const signed = result.checkpoint_size != null && result.checkpoint_size >= seq;
  return (
    <Alert tone="info">
      {signed
        ? `Verified: the tree recomputed from the stored entries, this one (sequence ${seq}) included, matches the signed checkpoints (${checkpoints}).`
        : `Verified: the tree recomputed from the stored entries matches the signed checkpoints (${checkpoints}); this entry (sequence ${seq}) is newer than the latest one, so it is not signed yet.`}{' '}
      {checked}
    </Alert>
  );
}

/**
 * The entry's place in the log: its hashes, the latest signed checkpoint that includes it, a check
 * of its inclusion proof in this browser and, for admins, an on-demand verification of the whole log.
 */
export function EntryIntegrity({ event, canVerify, timeZone }: { event: AuditEvent; canVerify: boolean; timeZone: string }) {
  const queryClient = useQueryClient();
  // Verification recomputes the whole tenant tree, so it runs only when asked for.
  const verification = useMutation({
    mutationFn: () => api.verifyIntegrity(),
    onSuccess: (result) => {
      // The header shows it too, and the server stored the run.
      queryClient.setQueryData(adminKeys.integrity, result);
      void queryClient.invalidateQueries({ queryKey: adminKeys.integrityStatus });
    },
  });
  const result = verification.data;

  return (
    <div className="stack">
      <dl className="details">
        <dt>Sequence</dt>
        <dd className="mono">{event.seq}</dd>
        <dt>Entry hash</dt>
        <dd className="mono">{event.hash}</dd>
        <dt>Previous hash</dt>
        <dd className="mono">{event.prev_hash}</dd>
        <dt>Signed checkpoint</dt>
        <dd data-testid="entry-checkpoint">
          <CheckpointInclusion seq={event.seq} timeZone={timeZone} />
        </dd>
      </dl>
      <ProofCheck
        event={{ id: event.id, seq: event.seq, action: event.action, hash: event.hash }}
        fetchProof={() => api.inclusionProof(event.id)}
        fetchKey={api.publicKey}
        timeZone={timeZone}
      />
      {canVerify && !result && (
        <div className="row">
          <Button size="small" onClick={() => verification.mutate()} disabled={verification.isPending}>
            {verification.isPending ? 'Verifying…' : 'Verify the log'}
          </Button>
          <span className="muted">Recomputes the log’s tree and checks it against every signed checkpoint.</span>
        </div>
      )}
      {verification.isError && <Alert>{errorMessage(verification.error)}</Alert>}
      {result && <VerificationStatus result={result} seq={event.seq} timeZone={timeZone} />}
    </div>
  );
}
