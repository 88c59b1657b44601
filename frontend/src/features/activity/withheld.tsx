import type { AuditEvent } from '../../api';

export type HiddenField = NonNullable<AuditEvent['withheld']>[number];

/** Whether the tenant hides `field` of this event from the viewer's role. */
export function isWithheld(event: Pick<AuditEvent, 'withheld'>, field: HiddenField): boolean {
  return event.withheld?.includes(field) ?? false;
}

/** Shown instead of a value the viewer's role may not see (never an empty cell). */
export function HiddenFromRole() {
  return (
    <span className="muted" data-testid="hidden-from-role" title="An admin has hidden this field from your role">
      Hidden from your role
    </span>
  );
}
