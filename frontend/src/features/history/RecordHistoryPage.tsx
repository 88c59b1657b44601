import { useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import type { AuditEvent, EntityRef } from '../../api';
import { Button } from '../../components/Button';
import { Skeleton } from '../../components/Skeleton';
import { EmptyState, ErrorState } from '../../components/States';
import { errorMessage } from '../../components/errorMessage';
import { humanize, ModuleBadge } from '../activity/badges';
import { EventDetailModal } from '../activity/EventDetailModal';
import { OpenInHostApp } from '../links/OpenInHostApp';
import { useTimeZone } from '../timezone/timeZone';
import { HistoryEntry } from './HistoryEntry';
import { useRecordHistory } from './queries';

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

export function RecordHistoryPage() {
  const { type = '', id = '' } = useParams();
  const location = useLocation();
  const backTo = (location.state as { from?: string } | null)?.from ?? '/';
  const { zone } = useTimeZone();
  const history = useRecordHistory(type, id, zone);
  const [openId, setOpenId] = useState<number | null>(null);
  const events = history.data?.pages.flatMap((p) => p.items) ?? [];
  const label = findLabel(events, type, id) ?? `#${id}`;
  const total = history.data?.pages[0]?.total;
  const hidden = history.data?.pages[0]?.hidden ?? 0;
  const nextPageError = history.isFetchNextPageError ? history.error : null;

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
          History, newest first{typeof total === 'number' ? ` · ${total.toLocaleString('en-GB')} activities` : ''}
        </span>
      </div>
      {hidden > 0 && (
        <p className="alert" role="note" data-testid="history-hidden">
          {hidden === 1 ? '1 entry' : `${hidden.toLocaleString('en-GB')} entries`} of this record {hidden === 1 ? 'is' : 'are'}{' '}
          hidden from your role.
        </p>
      )}
      <section className="card" aria-label="Timeline">
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
          <EmptyState title="No activity recorded for this record" />
        ) : (
          <>
            <ol className="timeline" aria-label={`History of ${humanize(type)} ${label}`} data-testid="history-timeline">
              {events.map((event) => (
                <HistoryEntry
                  key={event.id}
                  event={event}
                  isOwn={sameRecord(event.entity, type, id)}
                  timeZone={zone}
                  onOpenDetails={setOpenId}
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
      {openId !== null && <EventDetailModal eventId={openId} onClose={() => setOpenId(null)} />}
    </main>
  );
}
