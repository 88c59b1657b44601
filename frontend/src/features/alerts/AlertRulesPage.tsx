import { Link, useLocation } from 'react-router';
import type { AlertRule } from '../../api';
import { errorMessage } from '../../components/errorMessage';
import { SkeletonList } from '../../components/Skeleton';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { timeAgo } from '../../components/timeAgo';
import { useNow } from '../../components/useNow';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { DeliveryStatusBadge, destinationSummary, FilterChips, RuleStatusBadge, ScheduleBadge } from './badges';
import { useAlertRules } from './queries';

/** What the page was sent here to say (e.g. that a rule was deleted). */
export interface AlertRulesNotice {
  notice?: string;
}

function LastDelivery({ rule, now }: { rule: AlertRule; now: number }) {
  const { zone } = useTimeZone();
  const [last] = rule.recent_deliveries;
  if (!last) return <span className="muted">None yet</span>;
  return (
    <span className="row" style={{ gap: 6 }}>
      <DeliveryStatusBadge status={last.status} title={last.error ?? undefined} />
      <small className="muted" title={formatDateTime(last.created_at, zone)}>
        {timeAgo(last.created_at, now)}
      </small>
    </span>
  );
}

function Destination({ rule }: { rule: AlertRule }) {
  const { kind, target, details } = destinationSummary(rule.destination);
  return (
    <span className="rule-destination">
      <strong>{kind}</strong>{' '}
      <span className="mono rule-destination__target" title={target}>
        {target}
      </span>
      {details && <small className="muted"> ({details})</small>}
    </span>
  );
}

/** Alert rules (docs/ALERTS.md): what each watches for, where it sends, and how its deliveries fare. */
export function AlertRulesPage() {
  const rules = useAlertRules();
  const now = useNow();
  const notice = (useLocation().state as AlertRulesNotice | null)?.notice;

  let body;
  if (rules.isPending) {
    body = <SkeletonList rows={3} label="Loading alert rules" />;
  } else if (rules.isError) {
    body = (
      <ErrorState
        title="The alert rules could not be loaded"
        message={errorMessage(rules.error)}
        onRetry={() => rules.refetch()}
      />
    );
  } else if (rules.data.items.length === 0) {
    body = (
      <EmptyState title="No alert rules yet">
        A rule sends each new event that matches its filter, or a daily or weekly digest, to a webhook or by e-mail.{' '}
        <Link to="/admin/alerts/new">Create the first rule</Link>, or filter the <Link to="/">activity log</Link> and create one
        from there.
      </EmptyState>
    );
  } else {
    body = (
      <div className="table-scroll">
        <table className="data-table data-table--admin" data-testid="alert-rules-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Filter</th>
              <th scope="col">Destination</th>
              <th scope="col">Status</th>
              <th scope="col">Last delivery</th>
            </tr>
          </thead>
          <tbody>
            {rules.data.items.map((rule) => (
              <tr key={rule.id} data-rule-name={rule.name}>
                <td>
                  <Link to={`/admin/alerts/${rule.id}`}>
                    <strong>{rule.name}</strong>
                  </Link>{' '}
                  <ScheduleBadge schedule={rule.schedule} />
                </td>
                <td>
                  <FilterChips filter={rule.filter} label={`Filter of ${rule.name}`} />
                </td>
                <td>
                  <Destination rule={rule} />
                </td>
                <td>
                  <RuleStatusBadge rule={rule} />
                  {rule.disabled_reason && <small className="muted rule-disabled-reason"> {rule.disabled_reason}</small>}
                </td>
                <td className="nowrap">
                  <LastDelivery rule={rule} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <main className="page">
      <div className="page-title">
        <h1>Alerts</h1>
        <span className="muted">Send new matching activity, or a digest of it, to a webhook or by e-mail.</span>
        <span className="toolbar__spacer" />
        <Link to="/admin/alerts/new" className="btn btn--primary">
          New rule
        </Link>
      </div>
      <div className="stack">
        {notice && <Alert tone="info">{notice}</Alert>}
        <section className="card" aria-label="Alert rules">
          {body}
        </section>
      </div>
    </main>
  );
}
