import { Button } from '../../components/Button';
import { EmptyState, ErrorState } from '../../components/States';
import { errorMessage } from '../../components/errorMessage';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { IntegrityStatusBadge } from './IntegrityBadge';
import { useIntegrityCheck } from './queries';

/** The full result of the last verification of the tenant's hash chain (SPEC §6). */
export function IntegrityPage() {
  const { zone } = useTimeZone();
  const check = useIntegrityCheck();
  const result = check.data;

  return (
    <main className="page">
      <div className="page-title">
        <h1>Integrity</h1>
        <IntegrityStatusBadge result={result} />
        <Button variant="primary" onClick={() => check.refetch()} disabled={check.isFetching}>
          {check.isFetching ? 'Verifying…' : 'Verify now'}
        </Button>
      </div>
      <p className="muted">
        Every event is chained to the one before it by a SHA-256 hash. Verifying recomputes the whole chain and names the first
        entry that was altered, removed or reordered outside the application.
      </p>
      <section className="card" aria-label="Verification result" aria-busy={check.isFetching}>
        {check.isError && (
          <ErrorState
            title="The chain could not be verified"
            message={errorMessage(check.error)}
            onRetry={() => check.refetch()}
          />
        )}
        {!result && !check.isError && (
          <EmptyState title={check.isFetching ? 'Verifying…' : 'Not yet checked'}>
            {check.isFetching
              ? 'Recomputing every hash; this takes a moment on a long chain.'
              : 'Run “Verify now” to check the chain.'}
          </EmptyState>
        )}
        {result && (
          <dl className="details" style={{ padding: 16 }}>
            <dt>Result</dt>
            <dd>
              {result.ok
                ? 'Verified: every entry links to its predecessor and matches its hash.'
                : `Broken at sequence ${result.first_bad_seq ?? '?'}.`}
            </dd>
            {!result.ok && (
              <>
                <dt>First bad sequence</dt>
                <dd className="mono">{result.first_bad_seq ?? '—'}</dd>
                <dt>Reason</dt>
                <dd>{result.reason ?? '—'}</dd>
              </>
            )}
            <dt>Events checked</dt>
            <dd>{result.events_checked.toLocaleString('en-GB')}</dd>
            <dt>Chain head</dt>
            <dd className="mono">sequence {result.head_seq}</dd>
            <dt>Head hash</dt>
            <dd className="mono">{result.head_hash}</dd>
            <dt>Checkpoint</dt>
            <dd>
              {result.checkpoint_seq === 0
                ? 'Nothing archived: the chain is checked from its first entry.'
                : `Archived up to sequence ${result.checkpoint_seq}; the live chain starts after it.`}
            </dd>
            <dt>Checked at</dt>
            <dd>{formatDateTime(result.checked_at, zone, true)}</dd>
          </dl>
        )}
      </section>
    </main>
  );
}
