import type { AuditEvent } from '../../api';

/** What makes an entry a milestone of the record's life. */
export type MilestoneKind = 'created' | 'first' | 'status' | 'deleted' | 'entry_deleted';

export interface Milestone {
  kind: MilestoneKind;
  /** The milestone in words, its heading on the timeline: "Status: pending → confirmed". */
  title: string;
}

/** Fields whose change moves a record to another stage of its life. */
const STATUS_FIELDS = new Set(['status', 'state']);

function valueText(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'empty';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * The milestone an entry marks, or null for an ordinary entry. Only the record's own entries
 * (`isOwn`) mark its milestones; `first` is set on the oldest entry of a complete, unfiltered
 * history, which stands for the creation when none was recorded.
 */
export function milestoneOf(event: AuditEvent, { isOwn, first }: { isOwn: boolean; first: boolean }): Milestone | null {
  // A deleted entry (its tombstone) keeps nothing of what it said.
  if (event.deleted_at) return { kind: 'entry_deleted', title: 'Entry deleted' };
  if (!isOwn) return null;
  if (event.verb === 'created') return { kind: 'created', title: 'Created' };
  if (event.verb === 'deleted') return { kind: 'deleted', title: 'Deleted' };
  const status = event.changes.find((c) => STATUS_FIELDS.has(c.field.toLowerCase()));
  if (status && ('old' in status || 'new' in status)) {
    const label = status.field.charAt(0).toUpperCase() + status.field.slice(1);
    return { kind: 'status', title: `${label}: ${valueText(status.old)} → ${valueText(status.new)}` };
  }
  if (first) return { kind: 'first', title: 'First recorded activity' };
  return null;
}

/**
 * Each entry's milestone, by event id. `complete` says the oldest entry is loaded and no filter
 * hides an earlier one: only then is the oldest own entry the record's first.
 */
export function milestonesOf(
  events: AuditEvent[],
  isOwn: (event: AuditEvent) => boolean,
  complete: boolean,
): Map<number, Milestone> {
  const own = events.filter(isOwn);
  const created = own.some((e) => e.verb === 'created');
  const oldest = complete && !created && own.length > 0 ? own[own.length - 1] : null;
  const milestones = new Map<number, Milestone>();
  for (const event of events) {
    const milestone = milestoneOf(event, { isOwn: isOwn(event), first: event === oldest });
    if (milestone) milestones.set(event.id, milestone);
  }
  return milestones;
}
