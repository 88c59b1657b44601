import { useMutation } from '@tanstack/react-query';
import { api, type AuditEvent } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { Alert } from '../../components/States';
import { formatDateTime } from '../timezone/timeZone';

/** The entry's place in the hash chain and, for admins, an on-demand check of the chain up to it. */
export function EntryIntegrity({ event, canVerify, timeZone }: { event: AuditEvent; canVerify: boolean; timeZone: string }) {
  // Verification recomputes the whole tenant chain, so it runs only when asked for.
  const verification = useMutation({ mutationFn: () => api.verifyIntegrity() });
  const result = verification.data;

  let status = null;
  if (result) {
    const broken = result.first_bad_seq != null && result.first_bad_seq <= event.seq;
    status = broken ? (
      <Alert>
        The chain is broken at sequence {result.first_bad_seq}
        {result.reason ? ` (${result.reason})` : ''}: this entry cannot be vouched for.
      </Alert>
    ) : (
      <Alert tone="info">
        Intact: the chain up to this entry (sequence {event.seq}) recomputes to the recorded hashes. Checked{' '}
        {result.events_checked.toLocaleString('en-GB')} entries at {formatDateTime(result.checked_at, timeZone, true)}.
      </Alert>
    );
  }

  return (
    <div className="stack">
      <dl className="details">
        <dt>Sequence</dt>
        <dd className="mono">{event.seq}</dd>
        <dt>Entry hash</dt>
        <dd className="mono">{event.hash}</dd>
        <dt>Previous hash</dt>
        <dd className="mono">{event.prev_hash}</dd>
      </dl>
      {canVerify && !result && (
        <div>
          <Button size="small" onClick={() => verification.mutate()} disabled={verification.isPending}>
            {verification.isPending ? 'Verifying…' : 'Verify the chain'}
          </Button>
        </div>
      )}
      {verification.isError && <Alert>{errorMessage(verification.error)}</Alert>}
      {status}
    </div>
  );
}
