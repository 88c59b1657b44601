import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../api';
import { Button } from '../../components/Button';
import { Pagination } from '../../components/Pagination';
import { SegmentedControl } from '../../components/SegmentedControl';
import { EmptyState, ErrorState } from '../../components/States';
import { errorMessage } from '../../components/errorMessage';
import { useMediaQuery } from '../../components/useMediaQuery';
import { ruleFilterOf } from '../alerts/ruleFilter';
import { useCurrentUser } from '../auth/authContext';
import { useRecordLinks } from '../links/queries';
import { useTimeZone } from '../timezone/timeZone';
import { ActivityChart } from './ActivityChart';
import { ActivityFilters } from './ActivityFilters';
import { ActivityTable } from './ActivityTable';
import { BulkActions } from './BulkActions';
import { EventCards } from './EventCards';
import { EventDetailModal } from './EventDetailModal';
import { FilterChips } from './FilterChips';
import { filterChips } from './filterChips';
import {
  EMPTY_FILTERS,
  filtersOf,
  hasActiveFilters,
  serializeView,
  showsNewestFirst,
  toEventQuery,
  toStreamQuery,
  type Scope,
} from './filterSchema';
import { useLiveTail, type LiveStatus, type LiveTail } from './liveTail';
import { useEvents } from './queries';
import { useActivityView } from './useActivityView';

const EVENT_PARAM = 'event';

/** Below this width the list shows cards instead of the table (phones and tablets held upright). */
export const CARDS_QUERY = '(max-width: 899px)';

/** What the server said about the list's `ip` parameter, when that is why the list failed. */
function ipErrorOf(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const found = error.fieldErrors.find((e) => e.pointer === 'ip' || e.pointer === '/ip');
  if (!found) return null;
  const message = found.message.trim();
  return `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`;
}

/** The open details modal lives in the URL too, so it can be linked to and closed with Back. */
function useOpenEvent() {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const raw = Number(params.get(EVENT_PARAM));
  const openId = Number.isInteger(raw) && raw > 0 ? raw : null;

  const open = useCallback(
    (id: number) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          next.set(EVENT_PARAM, String(id));
          return next;
        },
        { state: { openedHere: true } },
      ),
    [setParams],
  );

  const close = useCallback(() => {
    if ((location.state as { openedHere?: boolean } | null)?.openedHere) {
      navigate(-1);
      return;
    }
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.delete(EVENT_PARAM);
        return next;
      },
      { replace: true },
    );
  }, [location.state, navigate, setParams]);

  return { openId, open, close };
}

export function ActivityPage() {
  const user = useCurrentUser();
  const { zone } = useTimeZone();
  const { view, update, reset } = useActivityView();
  const { openId, open, close } = useOpenEvent();
  const query = useMemo(() => toEventQuery(view, zone), [view, zone]);
  const events = useEvents(query);
  const recordLinks = useRecordLinks();
  const filters = filtersOf(view);
  const canSeeAll = user.role !== 'member';
  const [filtersOpen, setFiltersOpen] = useState(false);
  const cards = useMediaQuery(CARDS_QUERY);
  const results = useRef<HTMLElement>(null);

  // A selection belongs to one set of filters: paging keeps it, a new filter or sort clears it.
  const selectionKey = serializeView({ ...view, page: 1 }).toString();
  const [selection, setSelection] = useState<{ key: string; ids: ReadonlySet<number> }>({ key: selectionKey, ids: new Set() });
  const selected = selection.key === selectionKey ? selection.ids : new Set<number>();
  const onSelect = useCallback(
    (ids: number[], checked: boolean) =>
      setSelection((prev) => {
        const next = new Set(prev.key === selectionKey ? prev.ids : []);
        ids.forEach((id) => (checked ? next.add(id) : next.delete(id)));
        return { key: selectionKey, ids: next };
      }),
    [selectionKey],
  );

  const live = useLiveUpdates(view, zone);

  // A refused IP filter is reported under its field; the last list stays on screen meanwhile.
  const ipError = events.isError ? ipErrorOf(events.error) : null;
  const [lastPage, setLastPage] = useState(events.data);
  if (events.data && events.data !== lastPage) setLastPage(events.data);
  const data = events.data ?? (ipError ? lastPage : undefined);

  const items = useMemo(() => data?.items ?? [], [data]);
  const knownActorNames = useMemo(() => new Map(items.map((e) => [e.actor.id, e.actor.name])), [items]);
  const total = data?.total ?? items.length;
  const chips = filterChips(filters, knownActorNames);
  const showFilters = filtersOpen || ipError !== null;

  /** A new page starts at the top of the list, even when it was asked for at the bottom. */
  const changePage = (page: number) => {
    update({ page });
    const top = results.current?.getBoundingClientRect().top;
    if (top !== undefined && top < 0) results.current?.scrollIntoView({ block: 'start' });
  };

  const listProps = {
    freshIds: live.freshIds,
    events: items,
    selected,
    onSelect,
    loading: events.isFetching,
    stale: events.isPlaceholderData,
    sort: view.sort,
    order: view.order,
    onSort: (sort: typeof view.sort, order: typeof view.order) => update({ sort, order }),
    onOpenDetails: open,
    timeZone: zone,
    recordLinks: recordLinks.data,
  };

  let body;
  if (ipError && !data) {
    body = <EmptyState title="The IP address filter was refused">Correct it in the filters to see activity.</EmptyState>;
  } else if (events.isError && !data) {
    body = (
      <ErrorState
        title="The activity log could not be loaded"
        message={errorMessage(events.error)}
        onRetry={() => events.refetch()}
      />
    );
  } else if (events.isSuccess && items.length === 0 && total > 0) {
    body = (
      <EmptyState title="This page is past the last result">
        <Button onClick={() => update({ page: 1 })}>Go to the first page</Button>
      </EmptyState>
    );
  } else if (events.isSuccess && items.length === 0) {
    body = (
      <EmptyState title="No activity matches these filters">
        {hasActiveFilters(filters) ? (
          <Button onClick={reset}>Clear all filters</Button>
        ) : (
          'Activity will appear here as it is recorded.'
        )}
      </EmptyState>
    );
  } else {
    body = (
      <>
        {events.isError && !ipError && (
          <div className="alert alert--error" role="alert" style={{ margin: 12 }}>
            {errorMessage(events.error)}{' '}
            <Button size="small" onClick={() => events.refetch()}>
              Retry
            </Button>
          </div>
        )}
        <BulkActions
          view={view}
          timeZone={zone}
          selected={[...selected]}
          total={total}
          canDelete={user.role === 'admin'}
          onClearSelection={() => setSelection({ key: selectionKey, ids: new Set() })}
        />
        {cards ? (
          <EventCards {...listProps} skeletonCards={Math.min(view.perPage, 5)} />
        ) : (
          <ActivityTable {...listProps} skeletonRows={Math.min(view.perPage, 10)} />
        )}
        {data && (
          <Pagination
            page={view.page}
            perPage={view.perPage}
            total={total}
            noun="activities"
            one="activity"
            onPageChange={changePage}
            onPerPageChange={(perPage) => update({ perPage: perPage as typeof view.perPage })}
          />
        )}
      </>
    );
  }

  return (
    <main className="page">
      <div className="page-title">
        <h1>Activity log</h1>
        {canSeeAll ? (
          <SegmentedControl<Scope>
            label="Whose activity"
            value={view.scope}
            onChange={(scope) => update({ scope })}
            options={[
              { value: 'all', label: 'All activity' },
              { value: 'mine', label: 'My activity' },
            ]}
          />
        ) : (
          <span className="muted">Your own activity</span>
        )}
        {user.role === 'admin' && <CreateAlertLink filters={filters} />}
        <LiveToggle
          on={live.on}
          tail={live.tail}
          paused={live.on && !showsNewestFirst(view)}
          newCount={live.freshIds.size}
          onToggle={() => {
            if (!live.on && !showsNewestFirst(view)) update({ sort: 'occurred_at', order: 'desc', page: 1 });
            live.setOn(!live.on);
          }}
        />
      </div>
      <div className="stack">
        <section className="card filters-panel" aria-label="Filters" data-collapsed={showFilters ? undefined : ''}>
          {/* On a phone the filter bar folds away behind this button; on wider screens it is always shown. */}
          <Button
            className="filters-panel__toggle"
            variant="ghost"
            aria-expanded={showFilters}
            aria-controls="activity-filters"
            onClick={() => setFiltersOpen((open) => !open)}
          >
            {chips.length > 0 ? `Filters (${chips.length})` : 'Filters'}
            <span aria-hidden="true">{showFilters ? '▲' : '▼'}</span>
          </Button>
          <div id="activity-filters">
            <ActivityFilters
              applied={filters}
              onApply={update}
              onReset={reset}
              knownActorNames={knownActorNames}
              ipError={ipError}
            />
          </div>
        </section>
        <section className="card" aria-label="Activity over time">
          <ActivityChart view={view} timeZone={zone} onPickDates={(from, to) => update({ range: 'custom', from, to })} />
        </section>
        <section className="card results" aria-label="Results" ref={results}>
          {events.isPlaceholderData && <div className="results__progress" role="progressbar" aria-label="Loading activity" />}
          <FilterChips chips={chips} onRemove={(chip) => update(chip.remove)} onClearAll={() => update({ ...EMPTY_FILTERS })} />
          {body}
        </section>
      </div>
      {openId !== null && <EventDetailModal eventId={openId} onClose={close} />}
    </main>
  );
}

/** Admins: a new alert rule that watches for what these filters show (dates and All/Mine aside). */
function CreateAlertLink({ filters }: { filters: ReturnType<typeof filtersOf> }) {
  const filter = ruleFilterOf(filters);
  const to = `/admin/alerts/new${filter ? `?${new URLSearchParams({ filter })}` : ''}`;
  return (
    <Link to={to} className="btn btn--secondary btn--small" title="New matching events will be sent to a webhook or by e-mail">
      Create alert from these filters
    </Link>
  );
}

const LIVE_REFRESH_MS = 1000;

/** Live mode: new matching events refresh the first page (newest first) and are highlighted. */
function useLiveUpdates(view: ReturnType<typeof useActivityView>['view'], zone: string) {
  const queryClient = useQueryClient();
  const [on, setOn] = useState(false);
  const [freshIds, setFreshIds] = useState<ReadonlySet<number>>(new Set());
  const refresh = useRef<number | undefined>(undefined);
  const streamQuery = useMemo(() => (on && showsNewestFirst(view) ? toStreamQuery(view, zone) : null), [on, view, zone]);

  const tail = useLiveTail(streamQuery, (event) => {
    setFreshIds((prev) => new Set(prev).add(event.id));
    // A burst of events costs one refetch of the list and the chart.
    if (refresh.current === undefined) {
      refresh.current = window.setTimeout(() => {
        refresh.current = undefined;
        void queryClient.invalidateQueries({ queryKey: ['events'] });
      }, LIVE_REFRESH_MS);
    }
  });

  useEffect(() => () => window.clearTimeout(refresh.current), []);

  return {
    on,
    setOn: (next: boolean) => {
      setOn(next);
      setFreshIds(new Set());
    },
    tail,
    freshIds,
  };
}

const LIVE_LABELS: Record<LiveStatus, string> = {
  off: '',
  connecting: 'Connecting…',
  live: 'Watching for new activity',
  reconnecting: 'Connection lost, reconnecting…',
  throttled: 'Live updates paused: too many open tabs. Trying again shortly…',
  stopped: 'Live updates stopped',
};

function liveLabel({ status, problem }: LiveTail): string {
  return status === 'stopped' && problem ? `${LIVE_LABELS.stopped}: ${problem}` : LIVE_LABELS[status];
}

function LiveToggle(props: { on: boolean; tail: LiveTail; paused: boolean; newCount: number; onToggle: () => void }) {
  const { on, tail, paused, newCount, onToggle } = props;
  return (
    <span className="row">
      <Button size="small" aria-pressed={on} onClick={onToggle} className={on ? 'live-toggle live-toggle--on' : 'live-toggle'}>
        <span className="live-dot" aria-hidden="true" />
        Live
      </Button>
      <span className="muted" role="status" data-testid="live-status">
        {on && (paused ? 'Paused: live updates show on the first page, newest first' : liveLabel(tail))}
        {on && newCount > 0 && ` · ${newCount} new`}
      </span>
    </span>
  );
}
