import type { FlagFilter } from '../../api';
import { FLAG_FILTERS, flagFilterLabel } from '../review/flagKinds';
import { humanize } from './badges';
import { DATE_PRESETS } from './filterSchema';

/** One filter of the activity list in words: "Type: Booking". `problem` says why it does not apply. */
export interface FilterPart {
  key: string;
  label: string;
  value: string;
  problem?: string;
}

/** The time filters and the All/Mine switch: they say when and whose, not what. */
export const TIME_KEYS = ['from', 'to', 'range', 'tz', 'scope'] as const;

/** Parameters of the list that do not change which events are meant. */
const NOT_FILTERS = new Set(['page', 'per_page', 'cursor', 'sort', 'order', 'format', 'bom', 'columns']);

/** The list's filters, with the words the activity page's filter bar uses for them. */
const FILTERS: Record<string, { label: string; value?: (raw: string) => string; check?: (raw: string) => string | null }> = {
  actor_id: { label: 'User' },
  module: { label: 'Type', value: humanize },
  verb: { label: 'Event', value: humanize },
  action: { label: 'Action' },
  entity_type: { label: 'Record type', value: humanize },
  entity_id: { label: 'Record id' },
  record_type: { label: 'History of record type', value: humanize },
  record_id: { label: 'History of record id' },
  ip: { label: 'IP address' },
  q: { label: 'Search', value: (raw) => `“${raw}”` },
  flag: {
    label: 'Flagged',
    value: (raw) => ((FLAG_FILTERS as readonly string[]).includes(raw) ? flagFilterLabel(raw as FlagFilter) : raw),
    check: (raw) => ((FLAG_FILTERS as readonly string[]).includes(raw) ? null : 'not a kind of flag'),
  },
};

const TIME_LABELS: Record<(typeof TIME_KEYS)[number], string> = {
  from: 'From',
  to: 'To',
  range: 'Date range',
  tz: 'Time zone',
  scope: 'Whose activity',
};

/** The filter text as the server reads it: no surrounding spaces, no leading `?`. */
export function normaliseFilter(text: string): string {
  return text.trim().replace(/^\?/, '');
}

/**
 * The activity list's query string in words, one part per parameter, in the order written. An
 * empty value means "any" and is left out. The server judges the values: this only reads them.
 *
 * - `rule`: what an alert rule's filter may hold; time filters and anything else are marked
 *   with the reason the server refuses them.
 * - `record`: the filters a record of the log carries (an export's): paging, sorting and the
 *   format are left out, the selected rows read "Selected: #4, #5".
 */
export function describeListFilter(text: string, use: { kind: 'rule'; timeProblem: string } | { kind: 'record' }): FilterPart[] {
  const parts: FilterPart[] = [];
  const selected: string[] = [];
  for (const [key, raw] of new URLSearchParams(normaliseFilter(text))) {
    const value = raw.trim();
    const known = FILTERS[key];
    if (known) {
      if (!value) continue;
      const problem = known.check?.(value) ?? undefined;
      parts.push({ key, label: known.label, value: known.value ? known.value(value) : value, ...(problem ? { problem } : {}) });
    } else if ((TIME_KEYS as readonly string[]).includes(key)) {
      if (use.kind === 'record' && (!value || key === 'tz' || (key === 'scope' && value === 'all'))) continue;
      const label = TIME_LABELS[key as (typeof TIME_KEYS)[number]];
      const preset = key === 'range' ? DATE_PRESETS.find((p) => p.value === value)?.label : undefined;
      const shown = key === 'scope' && value === 'mine' ? 'Only mine' : (preset ?? value);
      parts.push({ key, label, value: shown, ...(use.kind === 'rule' ? { problem: use.timeProblem } : {}) });
    } else if (use.kind === 'record' && key === 'ids') {
      if (value) selected.push(`#${value}`);
    } else if (use.kind === 'record' && NOT_FILTERS.has(key)) {
      continue;
    } else if (key || value) {
      parts.push({ key, label: key || '(no name)', value, problem: 'not a filter of the activity list' });
    }
  }
  if (selected.length > 0) parts.unshift({ key: 'ids', label: 'Selected', value: selected.join(', ') });
  return parts;
}
