import { DEFAULT_VIEW, serializeView, type ActivityFilters } from './filterSchema';
import { describeListFilter } from './filterWords';

/** One applied filter of the activity list, in words, and the change that removes it. */
export interface FilterChip {
  key: string;
  text: string;
  remove: Partial<ActivityFilters>;
}

/**
 * The applied filters as chips, in the filter bar's words ("Type: Invoice", "Last 30 days").
 * A user is named when the name is known (from rows on screen), else shown by id.
 */
export function filterChips(filters: ActivityFilters, actorNames: ReadonlyMap<string, string>): FilterChip[] {
  const query = serializeView({ ...DEFAULT_VIEW, ...filters }).toString();
  const chips: FilterChip[] = [];
  for (const part of describeListFilter(query, { kind: 'record' })) {
    const remove = removalOf(part.key, filters);
    if (!remove) continue;
    let text = `${part.label}: ${part.value}`;
    if (part.key === 'range') text = part.value;
    if (part.key === 'actor_id') text = `${part.label}: ${actorNames.get(part.value) ?? part.value}`;
    chips.push({ key: part.key, text, remove });
  }
  return chips;
}

function removalOf(key: string, filters: ActivityFilters): Partial<ActivityFilters> | null {
  switch (key) {
    case 'range':
      return { range: null, from: null, to: null };
    // Custom dates: the other end, if set, stays.
    case 'from':
      return { from: null, range: filters.to ? 'custom' : null };
    case 'to':
      return { to: null, range: filters.from ? 'custom' : null };
    case 'actor_id':
      return { actorId: null };
    case 'module':
      return { module: null };
    case 'verb':
      return { verb: null };
    case 'ip':
      return { ip: null };
    case 'q':
      return { q: '' };
    case 'flag':
      return { flag: null };
    case 'scope':
      return { scope: 'all' };
    default:
      return null;
  }
}
