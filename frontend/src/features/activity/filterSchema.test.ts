import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VIEW,
  EMPTY_FILTERS,
  hasActiveFilters,
  parseView,
  serializeView,
  toEventQuery,
  toExportQuery,
  toStreamQuery,
  toTimelineQuery,
  validateFilters,
  type ActivityView,
} from './filterSchema';

const parse = (query: string) => parseView(new URLSearchParams(query));

describe('parseView', () => {
  it('gives the default view (newest first, page 1, 25 per page) for an empty URL', () => {
    expect(parse('')).toEqual(DEFAULT_VIEW);
    expect(DEFAULT_VIEW).toMatchObject({ sort: 'occurred_at', order: 'desc', page: 1, perPage: 25 });
  });

  it('reads every filter, the sort and the paging', () => {
    expect(
      parse(
        'range=last_7_days&actor_id=u-42&module=booking&verb=updated&ip=10.0.0.1&q=BOK-1&flag=new_ip&scope=mine&sort=actor&order=asc&page=3&per_page=50',
      ),
    ).toEqual({
      range: 'last_7_days',
      from: null,
      to: null,
      actorId: 'u-42',
      module: 'booking',
      verb: 'updated',
      ip: '10.0.0.1',
      q: 'BOK-1',
      flag: 'new_ip',
      scope: 'mine',
      sort: 'actor',
      order: 'asc',
      page: 3,
      perPage: 50,
    });
  });

  it('treats from/to as custom dates', () => {
    expect(parse('from=2026-11-01&to=2026-11-15')).toMatchObject({ range: 'custom', from: '2026-11-01', to: '2026-11-15' });
    expect(parse('to=2026-11-15')).toMatchObject({ range: 'custom', from: null, to: '2026-11-15' });
  });

  it('lets a preset win over dates, as the API refuses both together', () => {
    expect(parse('range=today&from=2026-11-01')).toMatchObject({ range: 'today', from: null, to: null });
  });

  it('falls back to defaults for invalid values instead of failing', () => {
    expect(parse('range=forever&from=yesterday&sort=hash&order=up&page=-2&per_page=33&scope=everyone')).toEqual(DEFAULT_VIEW);
    expect(parse('page=1.5').page).toBe(1);
    expect(parse('from=2026-13-45').range).toBeNull();
  });

  it('reads the flag filter: any flag or one kind, nothing else', () => {
    expect(parse('flag=any').flag).toBe('any');
    expect(parse('flag=bulk_export').flag).toBe('bulk_export');
    expect(parse('flag=suspicious').flag).toBeNull();
    expect(parse('flag=').flag).toBeNull();
  });

  it('ignores blank text filters', () => {
    expect(parse('module=&q=%20%20&actor_id=')).toEqual(DEFAULT_VIEW);
  });
});

describe('serializeView', () => {
  it('leaves defaults out of the URL', () => {
    expect(serializeView(DEFAULT_VIEW).toString()).toBe('');
  });

  it('round-trips any view through the URL', () => {
    const views: ActivityView[] = [
      { ...DEFAULT_VIEW, range: 'this_month', module: 'invoice', verb: 'sent', page: 2 },
      { ...DEFAULT_VIEW, range: 'custom', from: '2026-10-01', to: '2026-10-31', actorId: 'u 7', q: 'café & co', perPage: 100 },
      { ...DEFAULT_VIEW, sort: 'ip', order: 'asc', scope: 'mine', ip: '::1' },
      { ...DEFAULT_VIEW, sort: 'occurred_at', order: 'asc' },
      { ...DEFAULT_VIEW, range: 'last_7_days', flag: 'odd_hours' },
      { ...DEFAULT_VIEW, flag: 'any', module: 'auth' },
    ];
    for (const view of views) {
      expect(parseView(new URLSearchParams(serializeView(view).toString()))).toEqual(view);
    }
  });

  it('uses the API parameter names', () => {
    const params = serializeView({ ...DEFAULT_VIEW, actorId: 'u-1', perPage: 10, sort: 'module', order: 'asc' });
    expect(Object.fromEntries(params)).toEqual({ actor_id: 'u-1', per_page: '10', sort: 'module', order: 'asc' });
  });

  it('writes only from/to for custom dates and only range for a preset', () => {
    expect(serializeView({ ...DEFAULT_VIEW, range: 'custom', from: '2026-01-01', to: null }).toString()).toBe('from=2026-01-01');
    expect(serializeView({ ...DEFAULT_VIEW, range: 'yesterday', from: '2026-01-01' }).toString()).toBe('range=yesterday');
  });
});

describe('toEventQuery', () => {
  it('always sends sort, paging and the display time zone', () => {
    expect(toEventQuery(DEFAULT_VIEW, 'Europe/London')).toEqual({
      sort: 'occurred_at',
      order: 'desc',
      page: 1,
      per_page: 25,
      tz: 'Europe/London',
    });
  });

  it('maps every filter to its API parameter', () => {
    const view: ActivityView = {
      ...DEFAULT_VIEW,
      range: 'custom',
      from: '2026-11-01',
      to: '2026-11-02',
      actorId: 'u-9',
      module: 'quote',
      verb: 'deleted',
      ip: '192.0.2.1',
      q: ' 1234 ',
      flag: 'failed_login_burst',
      scope: 'mine',
    };
    expect(toEventQuery(view, 'UTC')).toMatchObject({
      from: '2026-11-01',
      to: '2026-11-02',
      actor_id: ['u-9'],
      module: 'quote',
      verb: 'deleted',
      ip: '192.0.2.1',
      q: '1234',
      flag: 'failed_login_burst',
      scope: 'mine',
    });
    expect(toEventQuery({ ...view, range: 'last_month' }, 'UTC')).toMatchObject({ range: 'last_month' });
    expect(toEventQuery({ ...view, range: 'last_month' }, 'UTC')).not.toHaveProperty('from');
  });
});

describe('the flag filter', () => {
  const view: ActivityView = { ...DEFAULT_VIEW, range: 'last_30_days', flag: 'new_ip' };

  it('is written to the URL with its API name, and counts as a filter', () => {
    expect(serializeView(view).toString()).toBe('range=last_30_days&flag=new_ip');
    expect(hasActiveFilters({ ...EMPTY_FILTERS, flag: 'any' })).toBe(true);
    expect(hasActiveFilters(EMPTY_FILTERS)).toBe(false);
  });

  it('reaches the list, the export, the chart and the live stream alike', () => {
    expect(toEventQuery(view, 'UTC').flag).toBe('new_ip');
    expect(toExportQuery(view, 'UTC').flag).toBe('new_ip');
    // Selected rows: only their ids (and the list's order), not the filters.
    expect(toExportQuery(view, 'UTC', [4, 5])).toEqual({ ids: '4,5', tz: 'UTC', sort: 'occurred_at', order: 'desc' });
    expect(toTimelineQuery(view, 'UTC').flag).toBe('new_ip');
    expect(toStreamQuery(view, 'UTC').flag).toBe('new_ip');
    expect(toEventQuery(DEFAULT_VIEW, 'UTC')).not.toHaveProperty('flag');
  });
});

describe('validateFilters', () => {
  it('rejects a start date after the end date', () => {
    expect(validateFilters({ ...DEFAULT_VIEW, range: 'custom', from: '2026-02-02', to: '2026-02-01' })).toMatch(/start date/);
    expect(validateFilters({ ...DEFAULT_VIEW, range: 'custom', from: '2026-02-01', to: '2026-02-01' })).toBeNull();
  });
});
