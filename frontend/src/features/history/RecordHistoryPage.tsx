import { formatNumber } from '../../components/locale';
import { countOf } from '../../components/countOf';
import { useCallback, useMemo, useState } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import type { AuditEvent, EntityRef } from '../../api';
import { Button } from '../../components/Button';
import { SegmentedControl } from '../../components/SegmentedControl';
import { Skeleton } from '../../components/Skeleton';
import { EmptyState, ErrorState } from '../../components/States';
import { errorMessage } from '../../components/errorMessage';
import { ActivityFilters, type FilterField } from '../activity/ActivityFilters';
import { humanize, ModuleBadge } from '../activity/badges';
import { EventDetailModal } from '../activity/EventDetailModal';
import { filtersOf, hasActiveFilters, serializeView } from '../activity/filterSchema';
import { describeListFilter } from '../activity/filterWords';
import { useActivityView } from '../activity/useActivityView';
import { OpenInHostApp } from '../links/OpenInHostApp';
import { useTimeZone } from '../timezone/timeZone';
import { HistoryEntry } from './HistoryEntry';
import { HistoryExport } from './HistoryExport';
import { milestonesOf } from './milestones';
import { useRecordHistory } from './queries';

const HISTORY_FILTERS: readonly FilterField[] = ['date', 'user', 'event'];
const LAYOUT_PARAM = 'view';
type Layout = 'list' | 'timeline';

function sameRecord(entity: EntityRef | null | undefined, type: string, id: string): boolean {
  return !!entity && entity.type === type && entity.id === id;
}

/** The record's label as the events name it. */
function findLabel(events: AuditEvent[], type: string, id: string): string | null {
  for (const event of events) {
    if (sameRecord(event.entity, type, id) && event.entity?.label) return event.entity.label;
    const related = event.related.find((r) => sameRecord(r, type, id) && r.label);
    if (related?.label) return related.label;
  }
  return null;
}

/** List or timeline, kept in the URL beside the filters. */
function useLayout() {
  const [params, setParams] = useSearchParams();
  const layout: Layout = params.get(LAYOUT_PARAM) === 'timeline' ? 'timeline' : 'list';
  const setLayout = useCallback(
    (next: Layout) =>
      setParams((prev) => {
        const params = new URLSearchParams(prev);
        if (next === 'timeline') params.set(LAYOUT_PARAM, next);
        else params.delete(LAYOUT_PARAM);
        return params;
      }),
    [setParams],
  );
  return [layout, setLayout] as const;
}

export function RecordHistoryPage() {
  const { type = '', id = '' } = useParams();
  const location = useLocation();
  const backTo = (location.state as { from?: string } | null)?.from ?? '/';
  const { zone } = useTimeZone();
  const { view, update, reset } = useActivityView();
  const [layout, setLayout] = useLayout();
  const history = useRecordHistory(type, id, view, zone);
  const [openId, setOpenId] = useState<number | null>(null);
  const events = useMemo(() => history.data?.pages.flatMap((p) => p.items) ?? [], [history.data]);
  const label = findLabel(events, type, id) ?? `#${id}`;
  const total = history.data?.pages[0]?.total;
  // Told by the first page only; the next ones continue it.
  const hidden = history.data?.pages[0]?.hidden ?? 0;
  const nextPageError = history.isFetchNextPageError ? history.error : null;
  const filters = filtersOf(view);
  const filtered = hasActiveFilters(filters);
  const knownActorNames = useMemo(() => new Map(events.map((e) => [e.actor.id, e.actor.name])), [events]);
  const isOwn = useCallback((event: AuditEvent) => sameRecord(event.entity, type, id), [type, id]);
  const milestones = useMemo(
    () => (layout === 'timeline' ? milestonesOf(events, isOwn, !filtered && !history.hasNextPage) : null),
    [layout, events, isOwn, filtered, history.hasNextPage],
  );
  const applied = describeListFilter(serializeView({ ...view, page: 1 }).toString(), { kind: 'record' });

  return (
    <main className="page">
      <p style={{ margin: '0 0 8px' }}>
        <Link to={backTo}>← Back to the activity log</Link>
      </p>
      <div className="page-title">
        <h1>
          {humanize(type)} {label}
        </h1>
        <ModuleBadge module={type} />
        <OpenInHostApp entity={{ type, id }} />
        <span className="muted">
          History, newest first{typeof total === 'number' ? ` · ${countOf(total, 'activity', 'activities')}` : ''}
        </span>
      </div>
      {hidden > 0 && (
        <p className="alert" role="note" data-testid="history-hidden">
          {hidden === 1 ? '1 entry' : `${formatNumber(hidden)} entries`} of this record {hidden === 1 ? 'is' : 'are'} hidden from
          your role{filtered ? ' (with these filters)' : ''}.
        </p>
      )}
      <div className="stack">
        <section className="card filters-panel" aria-label="Filters">
          <ActivityFilters
            applied={filters}
            onApply={update}
            onReset={reset}
            knownActorNames={knownActorNames}
            fields={HISTORY_FILTERS}
            label="Filter this history"
          />
          {applied.length > 0 && (
            <p className="row muted" style={{ margin: '8px 0 0' }} data-testid="history-applied-filters">
              <span>Showing only:</span>
              {applied.map((part) => (
                <span key={part.key} className="badge">
                  {part.label}: {part.key === 'actor_id' ? (knownActorNames.get(part.value) ?? part.value) : part.value}
                </span>
              ))}
            </p>
          )}
        </section>
        <div className="toolbar" role="toolbar" aria-label="History view and export">
          <SegmentedControl<Layout>
            label="Show as"
            value={layout}
            onChange={setLayout}
            options={[
              { value: 'list', label: 'List' },
              { value: 'timeline', label: 'Timeline' },
            ]}
          />
          <span className="toolbar__spacer" />
          <HistoryExport type={type} id={id} view={view} timeZone={zone} disabled={!history.isSuccess || events.length === 0} />
        </div>
        <section className="card" aria-labelledby="history-entries-heading">
          {/* Names the region and puts a level between the page's title and each entry's headings. */}
          <h2 id="history-entries-heading" className="visually-hidden">
            {layout === 'timeline' ? 'Timeline' : 'Entries'}
          </h2>
          {history.isPending ? (
            <div className="stack" style={{ padding: 16 }} aria-busy="true" aria-label="Loading history">
              {Array.from({ length: 6 }, (_, i) => (
                <Skeleton key={i} width={`${50 + ((i * 17) % 45)}%`} />
              ))}
            </div>
          ) : history.isError ? (
            <ErrorState
              title="This history could not be loaded"
              message={errorMessage(history.error)}
              onRetry={() => history.refetch()}
            />
          ) : events.length === 0 ? (
            <EmptyState
              title={filtered ? 'No activity of this record matches these filters' : 'No activity recorded for this record'}
            >
              {filtered && <Button onClick={reset}>Clear all filters</Button>}
            </EmptyState>
          ) : (
            <>
              <ol
                className={layout === 'timeline' ? 'timeline timeline--vertical' : 'timeline'}
                aria-label={`History of ${humanize(type)} ${label}`}
                data-testid="history-timeline"
                data-layout={layout}
              >
                {events.map((event) => (
                  <HistoryEntry
                    key={event.id}
                    event={event}
                    isOwn={isOwn(event)}
                    timeZone={zone}
                    onOpenDetails={setOpenId}
                    milestone={milestones?.get(event.id) ?? null}
                  />
                ))}
              </ol>
              {history.hasNextPage && (
                <div className="row" style={{ padding: 12, justifyContent: 'center' }}>
                  <Button onClick={() => history.fetchNextPage()} disabled={history.isFetchingNextPage}>
                    {history.isFetchingNextPage ? 'Loading…' : 'Load older activity'}
                  </Button>
                </div>
              )}
              {nextPageError && (
                <div className="alert alert--error" role="alert" style={{ margin: 12 }}>
                  {errorMessage(nextPageError)}
                </div>
              )}
            </>
          )}
        </section>
      </div>
      {openId !== null && <EventDetailModal eventId={openId} onClose={() => setOpenId(null)} />}
    </main>
  );
}
