import type { FlagFilter } from '../../api';
import { humanize } from '../activity/badges';
import { DATE_PRESETS, DEFAULT_VIEW, serializeView, type ActivityFilters } from '../activity/filterSchema';
import { FLAG_FILTERS, flagFilterLabel } from '../review/flagKinds';

/** One filter of a rule in words: "Type: Booking". `problem` says why the server will refuse it. */
export interface FilterPart {
  key: string;
  label: string;
  value: string;
  problem?: string;
}

/** The filters a rule cannot take: a rule looks at each event as it is stored, for every user. */
export const UNRULY_KEYS = ['from', 'to', 'range', 'tz', 'scope'] as const;

const NOT_FOR_RULES = 'not a filter of a rule: each event is checked as it is stored';

/** The list's filters, with the words the activity page's filter bar uses for them. */
const FILTERS: Record<string, { label: string; value?: (raw: string) => string; check?: (raw: string) => string | null }> = {
  actor_id: { label: 'User' },
  module: { label: 'Type', value: humanize },
  verb: { label: 'Event', value: humanize },
  action: { label: 'Action' },
  entity_type: { label: 'Record type', value: humanize },
  entity_id: { label: 'Record id' },
  ip: { label: 'IP address' },
  q: { label: 'Search', value: (raw) => `“${raw}”` },
  flag: {
    label: 'Flagged',
    value: (raw) => ((FLAG_FILTERS as readonly string[]).includes(raw) ? flagFilterLabel(raw as FlagFilter) : raw),
    check: (raw) => ((FLAG_FILTERS as readonly string[]).includes(raw) ? null : 'not a kind of flag'),
  },
};

const UNRULY_LABELS: Record<(typeof UNRULY_KEYS)[number], string> = {
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
 * A rule's filter (the activity list's query string) in words, one part per parameter, in the
 * order written. An empty filter matches every event and has no parts; an empty value means
 * "any" and is left out. The server judges the values: this only reads them.
 */
export function describeFilter(text: string): FilterPart[] {
  const parts: FilterPart[] = [];
  for (const [key, raw] of new URLSearchParams(normaliseFilter(text))) {
    const value = raw.trim();
    const known = FILTERS[key];
    if (known) {
      if (!value) continue;
      const problem = known.check?.(value) ?? undefined;
      parts.push({ key, label: known.label, value: known.value ? known.value(value) : value, ...(problem ? { problem } : {}) });
    } else if ((UNRULY_KEYS as readonly string[]).includes(key)) {
      const label = UNRULY_LABELS[key as (typeof UNRULY_KEYS)[number]];
      const preset = key === 'range' ? DATE_PRESETS.find((p) => p.value === value)?.label : undefined;
      parts.push({ key, label, value: preset ?? value, problem: NOT_FOR_RULES });
    } else if (key || value) {
      parts.push({ key, label: key || '(no name)', value, problem: 'not a filter of the activity list' });
    }
  }
  return parts;
}

/**
 * The activity page's filters as a rule's filter: the same query string the page keeps in its
 * URL, without the time filters and the All/Mine switch (a rule refuses them) and without sort
 * and paging (not filters).
 */
export function ruleFilterOf(filters: ActivityFilters): string {
  return serializeView({ ...DEFAULT_VIEW, ...filters, range: null, from: null, to: null, scope: 'all' }).toString();
}
