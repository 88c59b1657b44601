import { Link } from 'react-router';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { countOf } from '../../components/countOf';
import { errorMessage } from '../../components/errorMessage';
import { timeAgo } from '../../components/timeAgo';
import { useNow } from '../../components/useNow';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { newestVerification, useIntegrityCheck, useIntegrityStatus, type VerificationSummary } from './queries';

/**
 * "Verified 3 h ago · 1,204,311 events", "Verification failed at #17 · 2 d ago" or "Not verified
 * yet", as a badge; the exact time of the run is its title. Without `now`, no "ago".
 */
export function IntegrityStatusBadge({
  result,
  now,
  zone,
}: {
  result: VerificationSummary | undefined;
  now?: number;
  zone?: string;
}) {
  if (!result) return <Badge tone="slate">Not verified yet</Badge>;
  const ago = now === undefined ? '' : ` ${timeAgo(result.checked_at, now)}`;
  const title = zone ? `Checked ${formatDateTime(result.checked_at, zone, true)}` : undefined;
  if (result.ok) {
    return (
      <Badge tone="green" title={title}>
        Verified{ago} · {countOf(result.events_checked, 'event')}
      </Badge>
    );
  }
  return (
    <Badge tone="red" title={title}>
      Verification failed at #{result.first_bad_seq ?? '?'}
      {ago && ` ·${ago}`}
    </Badge>
  );
}

/**
 * The header's view of the last verification of the log, with a "Verify now" action (admins
 * only): this session's check, or else the last run the server stored (on request, daily or from
 * the command line), whichever is newer.
 */
export function IntegrityBadge() {
  const { zone } = useTimeZone();
  const now = useNow();
  const check = useIntegrityCheck();
  const status = useIntegrityStatus();
  const result = newestVerification(check.data, status.data?.last_verification);
  const loading = !result && status.isPending;
  const unavailable = !result && status.isError;

  let detail = null;
  if (result?.ok) {
    detail = `${countOf(result.checkpoints_checked, 'checkpoint')} matched`;
  } else if (result) {
    detail = result.reason ?? 'The log does not match its signed checkpoints.';
  }

  return (
    <div className="integrity-status" data-testid="integrity-status">
      <span aria-live="polite" className="integrity-status__text">
        <Link to="/admin/integrity" className="integrity-status__link">
          {loading ? (
            <Badge tone="slate">Integrity…</Badge>
          ) : unavailable ? (
            <Badge tone="slate" title={errorMessage(status.error)}>
              Integrity status unavailable
            </Badge>
          ) : (
            <IntegrityStatusBadge result={result} now={now} zone={zone} />
          )}
        </Link>
        {detail && <small className="muted">{detail}</small>}
        {check.isError && (
          <small className="field__error" title={errorMessage(check.error)}>
            Verification failed: {errorMessage(check.error)}
          </small>
        )}
      </span>
      <Button size="small" onClick={() => check.refetch()} disabled={check.isFetching}>
        {check.isFetching ? 'Verifying…' : 'Verify now'}
      </Button>
    </div>
  );
}
