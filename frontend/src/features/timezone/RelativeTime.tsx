import { timeAgo } from '../../components/timeAgo';
import { useNow } from '../../components/useNow';
import { formatDate, formatDateTime, useTimeZone } from './timeZone';

const WEEK = 7 * 24 * 3_600_000;

/**
 * A recent time as "3 min ago" or "2 d ago", an older one as its date; the exact time, with its
 * zone, on hover.
 */
export function RelativeTime({ iso }: { iso: string }) {
  const { zone } = useTimeZone();
  const now = useNow();
  const recent = now - Date.parse(iso) < WEEK;
  return (
    <time dateTime={iso} title={formatDateTime(iso, zone, true)}>
      {recent ? timeAgo(iso, now) : formatDate(iso, zone)}
    </time>
  );
}
