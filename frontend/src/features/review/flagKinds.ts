import type { FlagFilter, FlagKind } from '../../api';

/** Every kind of flag, in the server's order, with the words the dashboard uses for it. */
export const FLAG_KINDS: readonly { value: FlagKind; label: string; description: string }[] = [
  {
    value: 'odd_hours',
    label: 'Outside business hours',
    description: 'Activity on a day or at an hour outside the business hours set for the organisation.',
  },
  {
    value: 'new_ip',
    label: 'New network',
    description: "A user's first activity from this network in a while.",
  },
  {
    value: 'new_user_agent',
    label: 'New browser',
    description: "A user's first activity from this browser or system in a while.",
  },
  {
    value: 'failed_login_burst',
    label: 'Failed sign-in burst',
    description: 'Many failed sign-ins for one account or from one address within minutes, and the sign-in after them.',
  },
  {
    value: 'bulk_delete',
    label: 'Bulk deletion',
    description: 'Many activity log entries deleted at once.',
  },
  {
    value: 'bulk_export',
    label: 'Bulk export',
    description: 'A user exporting many rows of the activity log within a short time.',
  },
  {
    value: 'privilege_change',
    label: 'Privilege change',
    description: 'A role change, a new admin, or a new API token that may write.',
  },
];

/** The `flag` filter's values: any flag, or one kind. */
export const FLAG_FILTERS: readonly FlagFilter[] = ['any', ...FLAG_KINDS.map((k) => k.value)];

export function flagLabel(kind: FlagKind): string {
  return FLAG_KINDS.find((k) => k.value === kind)?.label ?? kind;
}

export function flagDescription(kind: FlagKind): string {
  return FLAG_KINDS.find((k) => k.value === kind)?.description ?? '';
}

/** The Flagged filter's choice in words. */
export function flagFilterLabel(filter: FlagFilter): string {
  return filter === 'any' ? 'Any flag' : flagLabel(filter);
}
