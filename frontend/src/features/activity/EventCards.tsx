import type { AuditEvent, RecordLinks } from '../../api';
import { Skeleton } from '../../components/Skeleton';
import { HostAppLink } from '../links/OpenInHostApp';
import { FlagBadge } from '../review/FlagBadge';
import { formatDateTime } from '../timezone/timeZone';
import { humanize, ModuleBadge, VerbBadge } from './badges';
import type { SortKey, SortOrder } from './filterSchema';
import type { ActivityTableProps } from './ActivityTable';
import { RecordLink } from './RecordLink';
import { SelectAllOnPage } from './SelectAllOnPage';
import { isWithheld } from './withheld';

/** The table's props, for the same list drawn as cards (skeleton cards instead of rows). */
export type EventCardsProps = Omit<ActivityTableProps, 'skeletonRows'> & { skeletonCards: number };

/** The table's sortable columns as one choice each way, for a screen with no room for headers. */
const SORTS: { value: `${SortKey}:${SortOrder}`; label: string }[] = [
  { value: 'occurred_at:desc', label: 'Newest first' },
  { value: 'occurred_at:asc', label: 'Oldest first' },
  { value: 'actor:asc', label: 'User A–Z' },
  { value: 'actor:desc', label: 'User Z–A' },
  { value: 'module:asc', label: 'Type A–Z' },
  { value: 'module:desc', label: 'Type Z–A' },
  { value: 'verb:asc', label: 'Event A–Z' },
  { value: 'verb:desc', label: 'Event Z–A' },
  { value: 'ip:asc', label: 'IP address ascending' },
  { value: 'ip:desc', label: 'IP address descending' },
];

/**
 * The activity list as cards, for narrow screens: time, who, what and the record of each event.
 * A card opens its details when tapped anywhere (its button stretches over it); the checkbox and
 * the record links sit above that button and keep their own meaning.
 */
export function EventCards({
  events,
  loading,
  stale = false,
  sort,
  order,
  onSort,
  onOpenDetails,
  timeZone,
  skeletonCards,
  selected,
  onSelect,
  freshIds,
  recordLinks,
}: EventCardsProps) {
  const ids = events.map((e) => e.id);
  const sortValue = `${sort}:${order}`;
  // The server refuses to sort by a field hidden from the viewer's role.
  const hiddenIp = events.some((e) => isWithheld(e, 'ip'));
  const sorts = SORTS.filter((s) => !(hiddenIp && s.value.startsWith('ip:')));
  return (
    <div className="event-cards-view">
      <div className="event-cards__toolbar">
        <label className="row event-cards__select-all">
          <SelectAllOnPage ids={ids} selected={selected} onSelect={onSelect} />
          <span aria-hidden="true">All on this page</span>
        </label>
        <label className="row">
          <span className="muted">Sort</span>
          <select
            className="select event-cards__sort"
            value={sortValue}
            onChange={(e) => {
              const [key, dir] = e.target.value.split(':') as [SortKey, SortOrder];
              onSort(key, dir);
            }}
          >
            {!sorts.some((s) => s.value === sortValue) && <option value={sortValue}>{humanize(sort)}</option>}
            {sorts.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ul
        className="event-cards"
        aria-label="Activity log"
        aria-busy={loading}
        data-stale={stale || undefined}
        data-testid="activity-cards"
      >
        {loading && events.length === 0
          ? Array.from({ length: skeletonCards }, (_, i) => (
              <li key={`skeleton-${i}`} className="event-card" aria-hidden="true">
                <Skeleton width="40%" />
                <Skeleton width="60%" />
                <Skeleton width="90%" />
              </li>
            ))
          : events.map((event) => (
              <EventCard
                key={event.id}
                event={event}
                timeZone={timeZone}
                selected={selected.has(event.id)}
                fresh={freshIds?.has(event.id) ?? false}
                onSelect={(checked) => onSelect([event.id], checked)}
                onOpen={() => onOpenDetails(event.id)}
                recordLinks={recordLinks}
              />
            ))}
      </ul>
    </div>
  );
}

interface EventCardProps {
  event: AuditEvent;
  timeZone: string;
  selected: boolean;
  fresh: boolean;
  onSelect: (checked: boolean) => void;
  onOpen: () => void;
  recordLinks?: RecordLinks;
}

function EventCard({ event, timeZone, selected, fresh, onSelect, onOpen, recordLinks }: EventCardProps) {
  const deleted = Boolean(event.deleted_at);
  const { actor } = event;
  return (
    <li className="event-card" data-event-id={event.id} data-selected={selected || undefined} data-new={fresh || undefined}>
      <div className="event-card__head">
        <input
          type="checkbox"
          className="event-card__raised"
          aria-label={`Select activity ${event.id}`}
          checked={selected}
          onChange={(e) => onSelect(e.target.checked)}
        />
        <time dateTime={event.occurred_at} className="event-card__time">
          {formatDateTime(event.occurred_at, timeZone)}
        </time>
        <span className="mono muted">#{event.id}</span>
        <FlagBadge flags={event.flags} />
      </div>
      {!deleted && (
        <div className="event-card__who">
          <strong>{actor.name}</strong>
          <span className="muted">{actor.role ? humanize(actor.role) : humanize(actor.type)}</span>
        </div>
      )}
      <div className="event-card__what">
        <ModuleBadge module={event.module} />
        <VerbBadge verb={event.verb} />
      </div>
      <button type="button" className="event-card__open" onClick={onOpen}>
        <span className="visually-hidden">Details of activity {event.id}:</span>{' '}
        {deleted ? <em className="muted">Deleted entry</em> : event.description}
      </button>
      {event.entity && (
        <div className="event-card__record record-ref event-card__raised">
          <RecordLink entity={event.entity} />
          {recordLinks && <HostAppLink links={recordLinks} entity={event.entity} />}
        </div>
      )}
    </li>
  );
}
