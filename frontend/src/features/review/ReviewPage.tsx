import { formatNumber } from '../../components/locale';
import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { asTimeZone, type FlagFilter, type FlagSummary } from '../../api';
import { countOf } from '../../components/countOf';
import { errorMessage } from '../../components/errorMessage';
import { SelectField } from '../../components/Field';
import { Skeleton } from '../../components/Skeleton';
import { EmptyState, ErrorState } from '../../components/States';
import { DATE_PRESETS, DEFAULT_VIEW, serializeView, type DatePreset } from '../activity/filterSchema';
import { useTimeZone } from '../timezone/timeZone';
import { FLAG_KINDS } from './flagKinds';
import { useFlagSummary } from './queries';

export const DEFAULT_PERIOD: DatePreset = 'last_7_days';

function periodOf(params: URLSearchParams): DatePreset {
  return DATE_PRESETS.find((p) => p.value === params.get('range'))?.value ?? DEFAULT_PERIOD;
}

/** The activity list showing what a group counts: the same period, and the flag. */
export function activityLinkFor(range: DatePreset, flag: FlagFilter): string {
  return `/?${serializeView({ ...DEFAULT_VIEW, range, flag }).toString()}`;
}

/**
 * The security review: how many events the server flagged in a period, by kind, each group
 * leading to the activity list filtered to it. The period is in the URL, like the list's filters.
 */
export function ReviewPage() {
  const [params, setParams] = useSearchParams();
  const period = periodOf(params);
  const { zone } = useTimeZone();
  // The list resolves the same preset in the same zone, so a group and the list it opens agree.
  const query = useMemo(() => ({ range: period, tz: asTimeZone(zone) }), [period, zone]);
  const summary = useFlagSummary(query);
  const periodLabel = DATE_PRESETS.find((p) => p.value === period)?.label ?? period;

  let body;
  if (summary.isPending) {
    body = (
      <div className="stack" style={{ padding: 16 }} aria-busy="true" aria-label="Loading the flagged events">
        {Array.from({ length: 4 }, (_, i) => (
          <Skeleton key={i} width={`${55 + ((i * 17) % 40)}%`} />
        ))}
      </div>
    );
  } else if (summary.isError) {
    body = (
      <ErrorState
        title="The security review could not be loaded"
        message={errorMessage(summary.error)}
        onRetry={() => summary.refetch()}
      />
    );
  } else if (summary.data.total === 0) {
    body = (
      <EmptyState title="No flagged events in this period">
        Nothing in “{periodLabel}” was flagged for review. Try a longer period.
      </EmptyState>
    );
  } else {
    body = <FlagGroups summary={summary.data} period={period} periodLabel={periodLabel} />;
  }

  return (
    <main className="page">
      <div className="page-title">
        <h1>Security review</h1>
        <span className="muted">Events the server flagged for a second look</span>
      </div>
      <div className="stack">
        <section className="card filters" aria-label="Period">
          <SelectField
            label="Period"
            value={period}
            options={DATE_PRESETS.map((p) => ({ value: p.value, label: p.label }))}
            onChange={(e) =>
              setParams((prev) => {
                const next = new URLSearchParams(prev);
                if (e.target.value === DEFAULT_PERIOD) next.delete('range');
                else next.set('range', e.target.value);
                return next;
              })
            }
          />
        </section>
        <section
          className="card review-summary"
          aria-label="Flagged events"
          aria-busy={summary.isFetching}
          data-testid="review-summary"
        >
          {body}
        </section>
      </div>
    </main>
  );
}

function FlagGroups({ summary, period, periodLabel }: { summary: FlagSummary; period: DatePreset; periodLabel: string }) {
  const counts = new Map(summary.kinds.map((k) => [k.kind, k.count]));
  return (
    <>
      <p className="review-summary__total">
        <strong data-testid="flag-total">{countOf(summary.total, 'flagged event')}</strong>{' '}
        <span className="muted">
          · {periodLabel} · an event may carry several flags ·{' '}
          <Link to={activityLinkFor(period, 'any')}>Show all flagged events</Link>
        </span>
      </p>
      <ul className="review-grid" aria-label="Flags by kind">
        {FLAG_KINDS.map((kind) => {
          const count = counts.get(kind.value) ?? 0;
          return (
            <li key={kind.value} className="review-card" data-flag-kind={kind.value} data-count={count}>
              <h2 className="review-card__title">
                {count > 0 ? <Link to={activityLinkFor(period, kind.value)}>{kind.label}</Link> : kind.label}
              </h2>
              <p className="muted review-card__description">{kind.description}</p>
              <p className="review-card__count">
                <strong data-testid="flag-count">{formatNumber(count)}</strong>{' '}
                <span className="muted">{count === 1 ? 'event' : 'events'}</span>
              </p>
            </li>
          );
        })}
      </ul>
    </>
  );
}
