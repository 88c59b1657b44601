import { formatNumber } from '../../components/locale';
import type { Checkpoint, Verification, VerificationRun } from '../../api';
import { Button } from '../../components/Button';
import { CopyButton } from '../../components/CopyButton';
import { countOf } from '../../components/countOf';
import { errorMessage } from '../../components/errorMessage';
import { SkeletonList } from '../../components/Skeleton';
import { EmptyState, ErrorState } from '../../components/States';
import { timeAgo } from '../../components/timeAgo';
import { useNow } from '../../components/useNow';
import { usePublicKey } from '../integrity/queries';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { IntegrityStatusBadge } from './IntegrityBadge';
import { newestVerification, useIntegrityCheck, useIntegrityStatus } from './queries';

const TRIGGERS: Record<string, string> = {
  request: 'On request',
  schedule: 'Daily schedule',
  command: 'Command line (auditlog verify)',
};

/** "20 Nov 2026, 12:00:00 GMT (3 h ago)". */
function When({ iso, zone, now }: { iso: string; zone: string; now: number }) {
  return (
    <>
      {formatDateTime(iso, zone, true)} <span className="muted">({timeAgo(iso, now)})</span>
    </>
  );
}

/** The full result of this session's verification. */
function SessionResult({ result, zone }: { result: Verification; zone: string }) {
  return (
    <dl className="details">
      <dt>Result</dt>
      <dd>
        {result.ok
          ? 'Verified: every entry matches its hash and links to its predecessor, and the tree recomputed from them has the signed root at every checkpoint.'
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
      <dd>{formatNumber(result.events_checked)}</dd>
      <dt>Checkpoints matched</dt>
      <dd>{formatNumber(result.checkpoints_checked)}</dd>
      <dt>Latest checkpoint</dt>
      <dd>{result.checkpoint_size == null ? 'None signed yet.' : countOf(result.checkpoint_size, 'event')}</dd>
      <dt>Log head</dt>
      <dd className="mono">sequence {result.head_seq}</dd>
      <dt>Head hash</dt>
      <dd className="mono">{result.head_hash}</dd>
      <dt>Retention boundary</dt>
      <dd>
        {result.checkpoint_seq === 0
          ? 'Nothing archived: the log is checked from its first entry.'
          : `Archived up to sequence ${result.checkpoint_seq}, vouched for by the signed retention boundary.`}
      </dd>
      <dt>Checked at</dt>
      <dd>{formatDateTime(result.checked_at, zone, true)}</dd>
    </dl>
  );
}

function LastVerification({ run, zone, now }: { run: VerificationRun | null | undefined; zone: string; now: number }) {
  if (!run) {
    return <EmptyState title="No verification has run yet">One runs every day; “Verify now” runs one straight away.</EmptyState>;
  }
  return (
    <dl className="details">
      <dt>Result</dt>
      <dd>{run.ok ? 'Verified.' : `Broken at sequence ${run.first_bad_seq ?? '?'}.`}</dd>
      {!run.ok && (
        <>
          <dt>Reason</dt>
          <dd>{run.reason ?? '—'}</dd>
        </>
      )}
      <dt>Checked at</dt>
      <dd>
        <When iso={run.checked_at} zone={zone} now={now} />
      </dd>
      <dt>Trigger</dt>
      <dd>{TRIGGERS[run.trigger] ?? run.trigger}</dd>
      <dt>Events checked</dt>
      <dd>{formatNumber(run.events_checked)}</dd>
      <dt>Checkpoints matched</dt>
      <dd>{formatNumber(run.checkpoints_checked)}</dd>
      <dt>Log size</dt>
      <dd>{countOf(run.tree_size, 'event')}</dd>
    </dl>
  );
}

function LatestCheckpoint({ checkpoint, zone, now }: { checkpoint: Checkpoint | null | undefined; zone: string; now: number }) {
  if (!checkpoint) {
    return (
      <EmptyState title="Nothing signed yet">A checkpoint is signed within a minute of the first event’s arrival.</EmptyState>
    );
  }
  return (
    <div className="stack">
      <dl className="details">
        <dt>Tree size</dt>
        <dd>
          {countOf(checkpoint.tree_size, 'event')} (sequences 1–{checkpoint.tree_size})
        </dd>
        <dt>Signed at</dt>
        <dd>
          <When iso={checkpoint.signed_at} zone={zone} now={now} />
        </dd>
        <dt>Origin</dt>
        <dd className="mono">{checkpoint.origin}</dd>
        <dt>Root hash</dt>
        <dd className="mono">{checkpoint.root_hash}</dd>
      </dl>
      <figure className="stack" style={{ gap: 6, margin: 0 }}>
        <figcaption className="field__label">Signed note</figcaption>
        <pre className="json" data-testid="checkpoint-note">
          {checkpoint.note}
        </pre>
        <CopyButton text={checkpoint.note}>Copy the note</CopyButton>
      </figure>
    </div>
  );
}

/** The stored status: the last verification run (any trigger) and the latest signed checkpoint. */
function StoredStatus({ zone, now }: { zone: string; now: number }) {
  const status = useIntegrityStatus();
  if (status.isError) {
    return (
      <section className="card admin-section" aria-labelledby="status-title">
        <h2 id="status-title">Last verification and signed checkpoint</h2>
        <ErrorState
          title="The integrity status could not be loaded"
          message={errorMessage(status.error)}
          onRetry={() => status.refetch()}
        />
      </section>
    );
  }
  return (
    <>
      <section className="card admin-section" aria-labelledby="last-verification-title">
        <h2 id="last-verification-title">Last verification</h2>
        {status.isPending ? (
          <SkeletonList rows={3} label="Loading the last verification" />
        ) : (
          <LastVerification run={status.data.last_verification} zone={zone} now={now} />
        )}
      </section>
      <section className="card admin-section" aria-labelledby="checkpoint-title">
        <h2 id="checkpoint-title">Latest signed checkpoint</h2>
        {status.isPending ? (
          <SkeletonList rows={4} label="Loading the latest checkpoint" />
        ) : (
          <LatestCheckpoint checkpoint={status.data.latest_checkpoint} zone={zone} now={now} />
        )}
      </section>
    </>
  );
}

function PublicKey() {
  const key = usePublicKey();
  return (
    <section className="card admin-section" aria-labelledby="public-key-title">
      <h2 id="public-key-title">Public key</h2>
      {key.isPending && <SkeletonList rows={1} label="Loading the public key" />}
      {key.isError && (
        <ErrorState title="The public key could not be loaded" message={errorMessage(key.error)} onRetry={() => key.refetch()} />
      )}
      {key.isSuccess && (
        <div className="stack">
          <p className="muted" style={{ margin: 0 }}>
            Checkpoints are signed with this key (a c2sp.org signed-note verifier key). Compare it with the key published out of
            band before trusting a proof; anyone can fetch it, without signing in, at{' '}
            <code className="mono">/api/v1/integrity/public-key</code>.
          </p>
          <pre className="json" data-testid="public-key">
            {key.data}
          </pre>
          <CopyButton text={key.data}>Copy the key</CopyButton>
        </div>
      )}
    </section>
  );
}

/** The tenant's tamper evidence: verification of the log, its signed checkpoints and key (SPEC §6). */
export function IntegrityPage() {
  const { zone } = useTimeZone();
  const now = useNow();
  const check = useIntegrityCheck();
  const status = useIntegrityStatus();
  const result = check.data;

  return (
    <main className="page">
      <div className="page-title">
        <h1>Integrity</h1>
        {(result || status.isSuccess) && (
          <IntegrityStatusBadge result={newestVerification(result, status.data?.last_verification)} now={now} zone={zone} />
        )}
        <Button variant="primary" onClick={() => check.refetch()} disabled={check.isFetching}>
          {check.isFetching ? 'Verifying…' : 'Verify now'}
        </Button>
      </div>
      <p className="muted">
        Every event is a leaf of the log’s Merkle tree. Within a minute of an event’s arrival the server signs a checkpoint of the
        tree (its size and root hash) with the log’s key, and anyone with the public key can check that an event is in a signed
        checkpoint. Verifying recomputes the tree from the stored events and checks it against every signed checkpoint, naming the
        first entry that was altered, removed, inserted or reordered outside the application.
      </p>
      <div className="stack">
        <section className="card admin-section" aria-labelledby="result-title" aria-busy={check.isFetching}>
          <h2 id="result-title">Verification result</h2>
          {check.isError && (
            <ErrorState
              title="The log could not be verified"
              message={errorMessage(check.error)}
              onRetry={() => check.refetch()}
            />
          )}
          {!result && !check.isError && (
            <EmptyState title={check.isFetching ? 'Verifying…' : 'Not yet checked in this session'}>
              {check.isFetching
                ? 'Recomputing the tree from every event; this takes a moment on a long log.'
                : 'Run “Verify now” to recompute the tree and check it against every signed checkpoint.'}
            </EmptyState>
          )}
          {result && <SessionResult result={result} zone={zone} />}
        </section>
        <StoredStatus zone={zone} now={now} />
        <PublicKey />
      </div>
    </main>
  );
}
