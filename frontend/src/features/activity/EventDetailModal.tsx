import type { AuditEvent } from '../../api';
import { Modal } from '../../components/Modal';
import { Skeleton } from '../../components/Skeleton';
import { ErrorState } from '../../components/States';
import { errorMessage } from '../../components/errorMessage';
import { useCurrentUser } from '../auth/authContext';
import { OpenInHostApp } from '../links/OpenInHostApp';
import { FlagList } from '../review/FlagBadge';
import { formatDateTime, useTimeZone } from '../timezone/timeZone';
import { humanize, ModuleBadge, VerbBadge } from './badges';
import { ChangesDiff, changesHeading } from './ChangesDiff';
import { HiddenFromRole, isWithheld } from './withheld';
import { EntryIntegrity } from './EntryIntegrity';
import { ActivityLink, hasOwnSection, ProductRecord } from './ProductRecord';
import { useEvent } from './queries';
import { RecordLink } from './RecordLink';

export function EventDetailModal({ eventId, onClose }: { eventId: number; onClose: () => void }) {
  const { data: event, isPending, isError, error, refetch } = useEvent(eventId);

  return (
    <Modal title={`Activity #${eventId}`} onClose={onClose} testId="event-detail">
      {isPending ? (
        <div className="stack" aria-busy="true" aria-label="Loading activity">
          {Array.from({ length: 6 }, (_, i) => (
            <Skeleton key={i} width={`${60 + ((i * 13) % 40)}%`} />
          ))}
        </div>
      ) : isError ? (
        <ErrorState title="This activity could not be loaded" message={errorMessage(error)} onRetry={() => refetch()} />
      ) : (
        <EventDetails event={event} />
      )}
    </Modal>
  );
}

function EventDetails({ event }: { event: AuditEvent }) {
  const { zone, businessZone, localZone } = useTimeZone();
  const canVerify = useCurrentUser().role === 'admin';
  const otherZone = zone === businessZone ? localZone : businessZone;
  const metadataEntries = Object.keys(event.metadata ?? {});
  // The product's deletion and export records have sections of their own, never raw JSON.
  const ownSection = hasOwnSection(event.action);

  return (
    <>
      {event.deleted_at && (
        <div className="alert alert--error" role="note" style={{ marginBottom: 16 }} data-testid="tombstone-note">
          The details of this entry were deleted on {formatDateTime(event.deleted_at, zone, true)}
          {event.deletion ? (
            <>
              {' '}
              by {event.deletion.actor.name || event.deletion.actor.id}
              {event.deletion.actor.role && <> ({humanize(event.deletion.actor.role)})</>}
              {event.deletion.reason && <>, reason: “{event.deletion.reason}”</>}. See the deletion record{' '}
              <ActivityLink id={event.deletion.record_id} />.
            </>
          ) : (
            <>{event.deleted_by && <> by actor {event.deleted_by}</>}.</>
          )}{' '}
          A tombstone keeps its place in the log: its hash stays in the signed tree.
        </div>
      )}
      <dl className="details">
        <dt>Activity</dt>
        <dd>
          <span className="row">
            <ModuleBadge module={event.module} />
            <VerbBadge verb={event.verb} />
            <span className="mono">{event.action}</span>
          </span>
          <div style={{ marginTop: 4 }}>{event.description}</div>
        </dd>
        <dt>Affected record</dt>
        <dd>
          {event.entity ? (
            <span className="record-ref">
              <RecordLink entity={event.entity} showType />
              <OpenInHostApp entity={event.entity} />
            </span>
          ) : (
            <span className="muted">None</span>
          )}
        </dd>
        <dt>By</dt>
        <dd data-testid="detail-actor">
          {event.actor.name}
          {event.actor.role && <> · {humanize(event.actor.role)}</>}
          {event.actor.email && <div className="muted">{event.actor.email}</div>}
          {isWithheld(event, 'actor_email') && (
            <div>
              E-mail: <HiddenFromRole />
            </div>
          )}
          {event.actor.type !== 'user' && <div className="muted">{humanize(event.actor.type)} actor</div>}
        </dd>
        <dt>IP address</dt>
        <dd className="mono" data-testid="detail-ip">
          {isWithheld(event, 'ip') ? <HiddenFromRole /> : (event.ip ?? <span className="muted">Not recorded</span>)}
        </dd>
        <dt>User agent</dt>
        <dd data-testid="detail-user-agent">
          {isWithheld(event, 'user_agent') ? (
            <HiddenFromRole />
          ) : (
            (event.user_agent ?? <span className="muted">Not recorded</span>)
          )}
        </dd>
        <dt>Date and time</dt>
        <dd>
          <div>{formatDateTime(event.occurred_at, zone, true)}</div>
          {otherZone !== zone && <div className="muted">{formatDateTime(event.occurred_at, otherZone, true)}</div>}
          <div className="muted mono">{event.occurred_at}</div>
        </dd>
        <dt>Recorded</dt>
        <dd className="muted">{formatDateTime(event.recorded_at, zone, true)}</dd>
        {event.external_id && (
          <>
            <dt>External id</dt>
            <dd className="mono">{event.external_id}</dd>
          </>
        )}
      </dl>

      {event.flags.length > 0 && (
        <section className="section" aria-labelledby="detail-flags">
          <h3 id="detail-flags">Flags</h3>
          <FlagList flags={event.flags} />
        </section>
      )}

      <ProductRecord event={event} />

      {!(ownSection && event.changes.length === 0) && (
        <section className="section" aria-labelledby="detail-changes">
          <h3 id="detail-changes">{changesHeading(event.verb, event.changes)}</h3>
          {isWithheld(event, 'changes') ? <HiddenFromRole /> : <ChangesDiff verb={event.verb} changes={event.changes} />}
        </section>
      )}

      <section className="section" aria-labelledby="detail-related">
        <h3 id="detail-related">Related records</h3>
        {event.related.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul>
            {event.related.map((r) => (
              <li key={`${r.type}:${r.id}`} className="record-ref">
                <RecordLink entity={r} showType />
                <OpenInHostApp entity={r} />
              </li>
            ))}
          </ul>
        )}
      </section>

      {!ownSection && (
        <section className="section" aria-labelledby="detail-metadata">
          <h3 id="detail-metadata">Metadata</h3>
          {isWithheld(event, 'metadata') ? (
            <HiddenFromRole />
          ) : metadataEntries.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <pre className="json">{JSON.stringify(event.metadata, null, 2)}</pre>
          )}
        </section>
      )}

      <section className="section" aria-labelledby="detail-integrity">
        <h3 id="detail-integrity">Integrity</h3>
        <EntryIntegrity event={event} canVerify={canVerify} timeZone={zone} />
      </section>
    </>
  );
}
