import { asTimeZone, type EventQuery, type ExportQuery, type FlagFilter, type StreamQuery, type TimelineQuery } from '../../api';
import { PAGE_SIZES } from '../../components/Pagination';
import { FLAG_FILTERS } from '../review/flagKinds';

/** The one description of the activity view's state, shared by the URL, the filter bar and the query. */

export const DATE_PRESETS = [
  { value: 'today', label: 'Today' },
  { value: 'yesterday', label: 'Yesterday' },
  { value: 'this_week', label: 'This week' },
  { value: 'last_7_days', label: 'Last 7 days' },
  { value: 'last_30_days', label: 'Last 30 days' },
  { value: 'this_month', label: 'This month' },
  { value: 'last_month', label: 'Last month' },
] as const;
export type DatePreset = (typeof DATE_PRESETS)[number]['value'];
/** A preset, custom dates (from/to), or null for any time. */
export type DateRange = DatePreset | 'custom' | null;

export const SORT_KEYS = ['occurred_at', 'actor', 'module', 'verb', 'action', 'ip'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortOrder = 'asc' | 'desc';
export type PageSize = (typeof PAGE_SIZES)[number];
export type Scope = 'all' | 'mine';

export interface ActivityFilters {
  range: DateRange;
  /** YYYY-MM-DD, only with range 'custom'. */
  from: string | null;
  to: string | null;
  actorId: string | null;
  module: string | null;
  verb: string | null;
  ip: string | null;
  q: string;
  /** Only flagged events: any flag, or one kind. */
  flag: FlagFilter | null;
  scope: Scope;
}

export interface ActivityView extends ActivityFilters {
  sort: SortKey;
  order: SortOrder;
  page: number;
  perPage: PageSize;
}

export const EMPTY_FILTERS: ActivityFilters = {
  range: null,
  from: null,
  to: null,
  actorId: null,
  module: null,
  verb: null,
  ip: null,
  q: '',
  flag: null,
  scope: 'all',
};

export const DEFAULT_VIEW: ActivityView = {
  ...EMPTY_FILTERS,
  sort: 'occurred_at',
  order: 'desc',
  page: 1,
  perPage: 25,
};

/** URL parameter names; they match the API's so a shared link reads the same as a request. */
export const VIEW_PARAMS = [
  'range',
  'from',
  'to',
  'actor_id',
  'module',
  'verb',
  'ip',
  'q',
  'flag',
  'scope',
  'sort',
  'order',
  'page',
  'per_page',
] as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function oneOf<T extends string>(values: readonly T[], raw: string | null): T | null {
  return raw !== null && (values as readonly string[]).includes(raw) ? (raw as T) : null;
}

function isValidDate(raw: string | null): raw is string {
  return raw !== null && DATE.test(raw) && !Number.isNaN(Date.parse(`${raw}T00:00:00Z`));
}

function text(raw: string | null): string | null {
  const trimmed = raw?.trim();
  return trimmed ? trimmed : null;
}

/** Reads a view from URL parameters; anything missing or invalid takes its default. */
export function parseView(params: URLSearchParams): ActivityView {
  const preset = oneOf(
    DATE_PRESETS.map((p) => p.value),
    params.get('range'),
  );
  const from = isValidDate(params.get('from')) ? params.get('from') : null;
  const to = isValidDate(params.get('to')) ? params.get('to') : null;
  const page = Number(params.get('page'));
  const perPage = Number(params.get('per_page'));
  return {
    range: preset ?? (from || to ? 'custom' : null),
    from: preset ? null : from,
    to: preset ? null : to,
    actorId: text(params.get('actor_id')),
    module: text(params.get('module')),
    verb: text(params.get('verb')),
    ip: text(params.get('ip')),
    q: params.get('q')?.trim() ?? '',
    flag: oneOf(FLAG_FILTERS, params.get('flag')),
    scope: params.get('scope') === 'mine' ? 'mine' : 'all',
    sort: oneOf(SORT_KEYS, params.get('sort')) ?? DEFAULT_VIEW.sort,
    order: oneOf(['asc', 'desc'] as const, params.get('order')) ?? DEFAULT_VIEW.order,
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    perPage: (PAGE_SIZES as readonly number[]).includes(perPage) ? (perPage as PageSize) : DEFAULT_VIEW.perPage,
  };
}

/** Writes a view as URL parameters, leaving out defaults so URLs stay short. */
export function serializeView(view: ActivityView): URLSearchParams {
  const params = new URLSearchParams();
  const set = (key: string, value: string | number | null) => {
    if (value !== null && value !== '') params.set(key, String(value));
  };
  if (view.range === 'custom') {
    set('from', view.from);
    set('to', view.to);
  } else {
    set('range', view.range);
  }
  set('actor_id', view.actorId);
  set('module', view.module);
  set('verb', view.verb);
  set('ip', view.ip);
  set('q', view.q.trim());
  set('flag', view.flag);
  if (view.scope !== DEFAULT_VIEW.scope) set('scope', view.scope);
  if (view.sort !== DEFAULT_VIEW.sort || view.order !== DEFAULT_VIEW.order) {
    set('sort', view.sort);
    set('order', view.order);
  }
  if (view.page !== 1) set('page', view.page);
  if (view.perPage !== DEFAULT_VIEW.perPage) set('per_page', view.perPage);
  return params;
}

export function filtersOf(view: ActivityView): ActivityFilters {
  const { range, from, to, actorId, module, verb, ip, q, flag, scope } = view;
  return { range, from, to, actorId, module, verb, ip, q, flag, scope };
}

export function sameFilters(a: ActivityFilters, b: ActivityFilters): boolean {
  return serializeView({ ...DEFAULT_VIEW, ...a }).toString() === serializeView({ ...DEFAULT_VIEW, ...b }).toString();
}

export function hasActiveFilters(filters: ActivityFilters): boolean {
  return !sameFilters(filters, EMPTY_FILTERS);
}

/** A message when the filters cannot be applied as they are, else null. */
export function validateFilters(filters: ActivityFilters): string | null {
  if (filters.range === 'custom' && filters.from && filters.to && filters.from > filters.to) {
    return 'The start date must be on or before the end date.';
  }
  return null;
}

/** The GET /events query for a view, with presets and dates resolved in `timeZone`. */
export function toEventQuery(view: ActivityView, timeZone: string): EventQuery {
  const query: EventQuery = {
    sort: view.sort,
    order: view.order,
    page: view.page,
    per_page: view.perPage,
    tz: asTimeZone(timeZone),
  };
  if (view.range === 'custom') {
    if (view.from) query.from = view.from;
    if (view.to) query.to = view.to;
  } else if (view.range) {
    query.range = view.range;
  }
  if (view.actorId) query.actor_id = [view.actorId];
  if (view.module) query.module = view.module;
  if (view.verb) query.verb = view.verb;
  if (view.ip) query.ip = view.ip;
  if (view.q.trim()) query.q = view.q.trim();
  if (view.flag) query.flag = view.flag;
  if (view.scope === 'mine') query.scope = 'mine';
  return query;
}

/** The export's filters (format and columns are the export dialog's): the whole filtered result in list order, or just `ids`. */
export function toExportQuery(view: ActivityView, timeZone: string, ids?: number[]): Omit<ExportQuery, 'format'> {
  if (ids && ids.length > 0) return { ids: ids.join(','), tz: asTimeZone(timeZone), sort: view.sort, order: view.order };
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { page, per_page, ...filters } = toEventQuery(view, timeZone);
  return filters;
}

/** The GET /stats/timeline query for the chart: the same filters, hourly for a single day. */
export function toTimelineQuery(view: ActivityView, timeZone: string): TimelineQuery {
  // The server picks the bucket that fits the range (hours for a day, days for a month, …).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { page, per_page, sort, order, ...filters } = toEventQuery(view, timeZone);
  return filters;
}

/** The GET /events/stream query: the same filters, without sort or paging. */
export function toStreamQuery(view: ActivityView, timeZone: string): StreamQuery {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { page, per_page, sort, order, ...filters } = toEventQuery(view, timeZone);
  return filters;
}

/** New events only belong on screen when the view shows the newest first, from the top. */
export function showsNewestFirst(view: ActivityView): boolean {
  return view.page === 1 && view.sort === 'occurred_at' && view.order === 'desc';
}
