import { Link } from 'react-router';
import type { Verification } from '../../api';
import { Badge } from '../../components/Badge';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { useIntegrityCheck } from './queries';

/** "Verified", "Broken at seq N" or "not yet checked", as a badge. */
export function IntegrityStatusBadge({ result }: { result: Verification | undefined }) {
  if (!result) return <Badge tone="slate">Integrity not yet checked</Badge>;
  if (result.ok) return <Badge tone="green">Integrity verified</Badge>;
  return <Badge tone="red">Broken at seq {result.first_bad_seq ?? '?'}</Badge>;
}

/** The header's view of the last chain verification, with a "Verify now" action (admins only). */
export function IntegrityBadge() {
  const { zone } = useTimeZone();
  const check = useIntegrityCheck();
  const result = check.data;
  let detail = null;
  if (result?.ok) {
    detail = `${result.events_checked.toLocaleString('en-GB')} events · ${formatDateTime(result.checked_at, zone)}`;
  } else if (result) {
    detail = result.reason ?? 'The hash chain does not recompute.';
  }

  return (
    <div className="integrity-status" data-testid="integrity-status">
      <span aria-live="polite" className="integrity-status__text">
        <Link to="/admin/integrity" className="integrity-status__link">
          <IntegrityStatusBadge result={result} />
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
