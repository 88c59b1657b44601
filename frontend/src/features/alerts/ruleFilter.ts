import { describeListFilter, normaliseFilter, TIME_KEYS, type FilterPart } from '../activity/filterWords';
import { DEFAULT_VIEW, serializeView, type ActivityFilters } from '../activity/filterSchema';

export { normaliseFilter, type FilterPart };

/** The filters a rule cannot take: a rule looks at each event as it is stored, for every user. */
export const UNRULY_KEYS = TIME_KEYS;

const NOT_FOR_RULES = 'not a filter of a rule: each event is checked as it is stored';

/**
 * A rule's filter (the activity list's query string) in words, one part per parameter, in the
 * order written. An empty filter matches every event and has no parts; an empty value means
 * "any" and is left out. The server judges the values: this only reads them.
 */
export function describeFilter(text: string): FilterPart[] {
  return describeListFilter(text, { kind: 'rule', timeProblem: NOT_FOR_RULES });
}

/**
 * The activity page's filters as a rule's filter: the same query string the page keeps in its
 * URL, without the time filters and the All/Mine switch (a rule refuses them) and without sort
 * and paging (not filters).
 */
export function ruleFilterOf(filters: ActivityFilters): string {
  return serializeView({ ...DEFAULT_VIEW, ...filters, range: null, from: null, to: null, scope: 'all' }).toString();
}
