import { Skeleton } from '../../components/Skeleton';
import { errorMessage } from '../../components/errorMessage';
import type { ActivityView } from './filterSchema';
import { toTimelineQuery } from './filterSchema';
import { useTimeline } from './queries';

export interface ActivityChartProps {
  view: ActivityView;
  timeZone: string;
  /** Narrows the view to one day when its bar is chosen. */
  onPickDay: (day: string) => void;
}

/** Activity counts over time for the current filters; a day's bar filters the table to that day. */
export function ActivityChart({ view, timeZone, onPickDay }: ActivityChartProps) {
  const timeline = useTimeline(toTimelineQuery(view, timeZone));

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

  const { buckets, bucket, total } = timeline.data;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const unit = bucket === 'hour' ? 'hour' : 'day';
  const first = buckets[0]?.label;
  const last = buckets.at(-1)?.label;

  return (
    <figure className="chart" data-testid="activity-chart">
      <figcaption className="chart__caption">
        <strong>{total.toLocaleString('en-GB')}</strong> activities
        {first && last && (
          <span className="muted">
            {' '}
            per {unit}, {first === last ? first : `${first} to ${last}`}
          </span>
        )}
      </figcaption>
      <div className="chart__bars" role="list" aria-label={`Activities per ${unit}`}>
        {buckets.map((b) => {
          const label = `${b.label}: ${b.count.toLocaleString('en-GB')} ${b.count === 1 ? 'activity' : 'activities'}`;
          const height = `${Math.max(b.count > 0 ? 3 : 0, (b.count / max) * 100)}%`;
          return (
            <div key={b.start} role="listitem" className="chart__slot">
              {unit === 'day' ? (
                <button
                  type="button"
                  className="chart__bar"
                  style={{ height }}
                  title={`${label}. Show this day`}
                  aria-label={`${label}. Show this day`}
                  onClick={() => onPickDay(b.label)}
                />
              ) : (
                <span className="chart__bar" style={{ height }} title={label} aria-label={label} role="img" />
              )}
            </div>
          );
        })}
      </div>
    </figure>
  );
}
