import { useId, useState } from 'react';
import type { AuditEvent } from '../../api';
import { Button } from '../../components/Button';
import { humanize, ModuleBadge, VerbBadge } from '../activity/badges';
import { ChangesDiff, changesHeading } from '../activity/ChangesDiff';
import { HiddenFromRole, isWithheld } from '../activity/withheld';
import { RecordLink } from '../activity/RecordLink';
import { formatDateTime } from '../timezone/timeZone';
import type { Milestone } from './milestones';

export interface HistoryEntryProps {
  event: AuditEvent;
  /** True when the event is about this record; false when it reached the timeline through `related`. */
  isOwn: boolean;
  timeZone: string;
  onOpenDetails: (id: number) => void;
  /** On the timeline view: the milestone this entry marks, shown as its heading. */
  milestone?: Milestone | null;
}

export function HistoryEntry({ event, isOwn, timeZone, onOpenDetails, milestone }: HistoryEntryProps) {
  const [expanded, setExpanded] = useState(false);
  const panelId = useId();

  return (
    <li
      className={milestone ? `timeline__item timeline__item--milestone timeline__item--${milestone.kind}` : 'timeline__item'}
      data-event-id={event.id}
      data-milestone={milestone?.kind}
    >
      {milestone && (
        <h3 className="timeline__milestone">
          <span className="visually-hidden">Milestone: </span>
          {milestone.title}
        </h3>
      )}
      <button
        type="button"
        className="timeline__toggle"
        aria-expanded={expanded}
        aria-controls={panelId}
        onClick={() => setExpanded((v) => !v)}
      >
        <span aria-hidden="true">{expanded ? '▾' : '▸'}</span>
        <span className="stack" style={{ gap: 4 }}>
          <span className="timeline__summary">
            <time dateTime={event.occurred_at} className="nowrap">
              {formatDateTime(event.occurred_at, timeZone)}
            </time>
            <ModuleBadge module={event.module} />
            <VerbBadge verb={event.verb} />
            <span>
              by <strong>{event.actor.name}</strong>
              {event.actor.role && <span className="muted"> ({humanize(event.actor.role)})</span>}
            </span>
          </span>
          <span>{event.description}</span>
        </span>
      </button>
      {/* Links are kept out of the toggle button so each stays its own control. */}
      {!isOwn && event.entity && (
        <div className="timeline__panel muted" style={{ paddingBottom: 8 }}>
          On related record <RecordLink entity={event.entity} showType />
        </div>
      )}
      <div id={panelId} className="timeline__panel" hidden={!expanded}>
        {expanded && (
          <div className="stack">
            <h3>{changesHeading(event.verb, event.changes)}</h3>
            {isWithheld(event, 'changes') ? <HiddenFromRole /> : <ChangesDiff verb={event.verb} changes={event.changes} />}
            <div className="row muted">
              <span>IP {isWithheld(event, 'ip') ? <HiddenFromRole /> : (event.ip ?? 'not recorded')}</span>·
              <span className="mono">{event.action}</span>·<span>Activity #{event.id}</span>
            </div>
            <div>
              <Button size="small" onClick={() => onOpenDetails(event.id)}>
                All details
              </Button>
            </div>
          </div>
        )}
      </div>
    </li>
  );
}
