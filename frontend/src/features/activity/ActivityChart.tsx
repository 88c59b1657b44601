import { useId, useRef, useState, type KeyboardEvent } from 'react';
import type { TimelineBucket, TimelineResponse } from '../../api';
import { Skeleton } from '../../components/Skeleton';
import { countOf } from '../../components/countOf';
import { errorMessage } from '../../components/errorMessage';
import { formatNumber } from '../../components/locale';
import { formatDate, formatMonth, formatTime } from '../timezone/timeZone';
import type { ActivityView } from './filterSchema';
import { toTimelineQuery } from './filterSchema';
import { useTimeline } from './queries';

export interface ActivityChartProps {
  view: ActivityView;
  timeZone: string;
  /** Narrows the view to the dates of a chosen bar (YYYY-MM-DD, both included). */
  onPickDates: (from: string, to: string) => void;
}

type Unit = TimelineResponse['bucket'];

const UNIT_WORDS: Record<Unit, { noun: string; axis: string }> = {
  hour: { noun: 'hour', axis: 'Hour' },
  day: { noun: 'day', axis: 'Day' },
  week: { noun: 'week', axis: 'Week (from Monday)' },
  month: { noun: 'month', axis: 'Month' },
};

/** A bar's time in words, in the reader's locale: "21 Nov 2026", "Week of 30 Nov 2026", "14:00". */
export function bucketName(bucket: TimelineBucket, unit: Unit, zone: string): string {
  switch (unit) {
    case 'hour':
      return `${formatDate(bucket.start, zone)} ${formatTime(bucket.start, zone)}`;
    case 'week':
      return `Week of ${formatDate(bucket.start, zone)}`;
    case 'month':
      return formatMonth(bucket.start, zone);
    default:
      return formatDate(bucket.start, zone);
  }
}

/** The local dates a day, week or month bar covers (both included); an hour bar has none of its own. */
export function datesOf(bucket: TimelineBucket, unit: Unit): [string, string] | null {
  const day = (text: string) => new Date(`${text}T00:00:00Z`);
  const iso = (date: Date) => date.toISOString().slice(0, 10);
  switch (unit) {
    case 'day':
      return [bucket.label, bucket.label];
    case 'week': {
      const last = day(bucket.label);
      last.setUTCDate(last.getUTCDate() + 6);
      return [bucket.label, iso(last)];
    }
    case 'month': {
      const first = day(`${bucket.label}-01`);
      const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0));
      return [iso(first), iso(last)];
    }
    default:
      return null;
  }
}

/** The top of the count axis: the smallest 1, 2 or 5 × 10ⁿ at or above the highest bar. */
export function axisTop(max: number): number {
  if (max <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((top) => top >= max) ?? max;
}

/**
 * Activity counts over time for the current filters, over the same range as the list (for "any
 * time", the data's own span). Bars whose bucket the range or the clock cuts are marked partial.
 * The bars are one tab stop (arrow keys move between them); a day, week or month bar narrows the
 * table to its dates. A table of the same counts is there for screen readers.
 */
export function ActivityChart({ view, timeZone, onPickDates }: ActivityChartProps) {
  const timeline = useTimeline(toTimelineQuery(view, timeZone));
  const titleId = useId();
  const [active, setActive] = useState<number | null>(null);
  const bars = useRef<(HTMLButtonElement | null)[]>([]);

  if (timeline.isPending) {
    return (
      <div className="chart" aria-busy="true" aria-label="Loading the activity chart">
        <Skeleton width="100%" />
      </div>
    );
  }
  if (timeline.isError) {
    return (
      <div className="chart muted" role="status">
        The activity chart is unavailable: {errorMessage(timeline.error)}
      </div>
    );
  }

  const { buckets, bucket: unit, total, from, until, tz } = timeline.data;
  const words = UNIT_WORDS[unit];
  const top = axisTop(Math.max(0, ...buckets.map((b) => b.count)));
  const current = active !== null && active < buckets.length ? active : buckets.length - 1;
  const last = new Date(Date.parse(until) - 1).toISOString();
  const span =
    unit === 'hour'
      ? `${formatDate(from, tz)} ${formatTime(from, tz)} to ${formatDate(last, tz)} ${formatTime(until, tz)}`
      : `${formatDate(from, tz)} to ${formatDate(last, tz)}`;
  const hasPartial = buckets.some((b) => b.partial);
  const describe = (b: TimelineBucket) =>
    `${bucketName(b, unit, tz)}${b.partial ? ` (partial ${words.noun})` : ''}: ${countOf(b.count, 'activity', 'activities')}`;

  const move = (event: KeyboardEvent) => {
    const next = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: buckets.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const index = Math.min(buckets.length - 1, Math.max(0, next));
    setActive(index);
    bars.current[index]?.focus();
  };
  const ticks = [top, top / 2, 0];
  const labelled = buckets.length > 2 ? [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1] : buckets.map((_, i) => i);

  return (
    <figure className="chart" data-testid="activity-chart" aria-labelledby={titleId}>
      <figcaption className="chart__caption">
        <h2 className="chart__title" id={titleId}>
          Activities per {words.noun}
        </h2>
        <span className="muted" data-testid="chart-summary">
          <strong>{countOf(total, 'activity', 'activities')}</strong> from {span}
        </span>
      </figcaption>
      <div className="chart__plot">
        <div className="chart__y" aria-hidden="true">
          <span className="chart__axis-title chart__axis-title--y">Activities</span>
          <div className="chart__ticks">
            {ticks.map((tick) => (
              <span key={tick}>{formatNumber(tick)}</span>
            ))}
          </div>
        </div>
        <div
          className="chart__bars"
          role="toolbar"
          aria-label={`Activities per ${words.noun}; arrow keys move between bars`}
          onKeyDown={move}
        >
          {buckets.map((b, i) => {
            const dates = datesOf(b, unit);
            const label = describe(b);
            const height = `${Math.max(b.count > 0 ? 3 : 0, (b.count / top) * 100)}%`;
            return (
              <div key={b.start} className="chart__slot">
                <button
                  ref={(el) => {
                    bars.current[i] = el;
                  }}
                  type="button"
                  className={`chart__column${b.partial ? ' chart__column--partial' : ''}`}
                  tabIndex={i === current ? 0 : -1}
                  title={dates ? `${label}. Show ${unit === 'day' ? 'this day' : `this ${words.noun}`}` : label}
                  aria-label={dates ? `${label}. Show ${unit === 'day' ? 'this day' : `this ${words.noun}`}` : label}
                  aria-disabled={dates ? undefined : true}
                  data-partial={b.partial ? '' : undefined}
                  onFocus={() => setActive(i)}
                  onClick={() => dates && onPickDates(dates[0], dates[1])}
                >
                  <span className="chart__bar" style={{ height }} />
                </button>
              </div>
            );
          })}
        </div>
        <div className="chart__x" aria-hidden="true">
          {labelled.map((i) => (
            <span key={buckets[i].start} style={{ left: `${((i + 0.5) / buckets.length) * 100}%` }}>
              {bucketName(buckets[i], unit, tz)}
            </span>
          ))}
        </div>
        <span className="chart__axis-title chart__axis-title--x" aria-hidden="true">
          {words.axis}
        </span>
      </div>
      {hasPartial && (
        <p className="chart__legend muted">
          <span className="chart__swatch chart__swatch--partial" aria-hidden="true" /> Partial {words.noun}: the range or the
          clock covers only part of it
        </p>
      )}
      <table className="visually-hidden">
        <caption>Activities per {words.noun}</caption>
        <thead>
          <tr>
            <th scope="col">{words.axis}</th>
            <th scope="col">Activities</th>
          </tr>
        </thead>
        <tbody>
          {buckets.map((b) => (
            <tr key={b.start}>
              <th scope="row">
                {bucketName(b, unit, tz)}
                {b.partial ? ` (partial ${words.noun})` : ''}
              </th>
              <td>{formatNumber(b.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
