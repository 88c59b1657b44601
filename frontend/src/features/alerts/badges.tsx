import type { AlertDestination, AlertRule, AlertSchedule, DeliveryStatus } from '../../api';
import { Badge } from '../../components/Badge';
import type { BadgeTone } from '../../components/badgeTones';
import { ruleStatus, SCHEDULE_LABELS } from './ruleDraft';
import { describeFilter } from './ruleFilter';

export function RuleStatusBadge({ rule }: { rule: Pick<AlertRule, 'paused' | 'disabled_at'> }) {
  const status = ruleStatus(rule);
  return <Badge tone={status.tone}>{status.label}</Badge>;
}

/** "Daily digest" or "Weekly digest" beside a digest rule; nothing beside an alert. */
export function ScheduleBadge({ schedule }: { schedule?: AlertSchedule | null }) {
  if (!schedule) return null;
  return <Badge tone="purple">{SCHEDULE_LABELS[schedule]}</Badge>;
}

const DELIVERY_STATUS: Record<DeliveryStatus, { label: string; tone: BadgeTone }> = {
  pending: { label: 'Pending', tone: 'amber' },
  delivered: { label: 'Delivered', tone: 'green' },
  failed: { label: 'Failed', tone: 'red' },
};

export function DeliveryStatusBadge({ status, title }: { status: DeliveryStatus; title?: string }) {
  const { label, tone } = DELIVERY_STATUS[status];
  return (
    <Badge tone={tone} title={title}>
      {label}
    </Badge>
  );
}

/** A rule's filter as chips ("Type: Booking"); a part the server refuses is marked. */
export function FilterChips({ filter, label }: { filter: string; label?: string }) {
  const parts = describeFilter(filter);
  if (parts.length === 0) return <span className="muted">Every event</span>;
  return (
    <ul className="filter-chips" aria-label={label}>
      {parts.map((part, index) => (
        <li key={`${part.key}-${index}`}>
          <Badge tone={part.problem ? 'red' : 'blue'} title={part.problem}>
            {part.label}: {part.value}
            {part.problem && <span className="visually-hidden"> ({part.problem})</span>}
          </Badge>
        </li>
      ))}
    </ul>
  );
}

/** Where a rule's deliveries go, in a line: "Webhook (NDJSON, 2 headers)", "E-mail to ann@…, +2". */
export function destinationSummary(destination: AlertDestination): { kind: string; target: string; details: string } {
  if (destination.type === 'webhook') {
    const details = [destination.format.toUpperCase()];
    const headers = destination.header_names.length;
    if (headers > 0) details.push(`${headers} header${headers === 1 ? '' : 's'}`);
    return { kind: 'Webhook', target: destination.url, details: details.join(', ') };
  }
  const [first, ...rest] = destination.to;
  return { kind: 'E-mail', target: first ?? '', details: rest.length > 0 ? `+${rest.length} more` : '' };
}
