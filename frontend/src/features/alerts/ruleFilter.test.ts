import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEW, filtersOf, parseView } from '../activity/filterSchema';
import { describeFilter, normaliseFilter, ruleFilterOf } from './ruleFilter';

describe('describeFilter', () => {
  it('reads an empty filter as every event', () => {
    expect(describeFilter('')).toEqual([]);
    expect(describeFilter('  ?  ')).toEqual([]);
  });

  it('words each filter as the activity page’s filter bar does, in the order written', () => {
    expect(describeFilter('?flag=any&module=booking&verb=status_changed&actor_id=user-7&actor_id=user-9&q=late%20fee')).toEqual([
      { key: 'flag', label: 'Flagged', value: 'Any flag' },
      { key: 'module', label: 'Type', value: 'Booking' },
      { key: 'verb', label: 'Event', value: 'Status changed' },
      { key: 'actor_id', label: 'User', value: 'user-7' },
      { key: 'actor_id', label: 'User', value: 'user-9' },
      { key: 'q', label: 'Search', value: '“late fee”' },
    ]);
    expect(
      describeFilter('flag=privilege_change&ip=203.0.113.7&entity_type=credit_note&entity_id=42&action=invoice.sent'),
    ).toEqual([
      { key: 'flag', label: 'Flagged', value: 'Privilege change' },
      { key: 'ip', label: 'IP address', value: '203.0.113.7' },
      { key: 'entity_type', label: 'Record type', value: 'Credit note' },
      { key: 'entity_id', label: 'Record id', value: '42' },
      { key: 'action', label: 'Action', value: 'invoice.sent' },
    ]);
  });

  it('leaves out filters left empty, which mean any', () => {
    expect(describeFilter('module=&q=%20&flag=any')).toEqual([{ key: 'flag', label: 'Flagged', value: 'Any flag' }]);
  });

  it('marks what the server refuses: time filters, the All/Mine switch, unknown parameters and flags', () => {
    const parts = describeFilter(
      'range=last_7_days&from=2026-01-01&tz=Europe/Paris&scope=mine&sort=actor&flag=odd&module=booking',
    );
    expect(parts.map((p) => [p.label, p.value, Boolean(p.problem)])).toEqual([
      ['Date range', 'Last 7 days', true],
      ['From', '2026-01-01', true],
      ['Time zone', 'Europe/Paris', true],
      ['Whose activity', 'Only mine', true],
      ['sort', 'actor', true],
      ['Flagged', 'odd', true],
      ['Type', 'Booking', false],
    ]);
    expect(parts[0].problem).toMatch(/not a filter of a rule/);
    expect(parts[4].problem).toBe('not a filter of the activity list');
    expect(parts[5].problem).toBe('not a kind of flag');
  });
});

describe('normaliseFilter', () => {
  it('drops the spaces around and a leading question mark, as the server does', () => {
    expect(normaliseFilter('  ?flag=any ')).toBe('flag=any');
    expect(normaliseFilter('module=booking')).toBe('module=booking');
  });
});

describe('ruleFilterOf', () => {
  it('keeps the activity page’s filters, in its own URL form', () => {
    const view = parseView(new URLSearchParams('actor_id=user-7&module=booking&verb=updated&ip=203.0.113.7&q=late&flag=any'));
    expect(ruleFilterOf(filtersOf(view))).toBe('actor_id=user-7&module=booking&verb=updated&ip=203.0.113.7&q=late&flag=any');
  });

  it('leaves out time filters, the All/Mine switch, sort and paging', () => {
    const view = parseView(
      new URLSearchParams('range=today&module=booking&scope=mine&sort=actor&order=asc&page=3&per_page=50&flag=new_ip&event=9'),
    );
    expect(ruleFilterOf(filtersOf(view))).toBe('module=booking&flag=new_ip');
    const custom = parseView(new URLSearchParams('from=2026-01-01&to=2026-01-31&q=refund'));
    expect(ruleFilterOf(filtersOf(custom))).toBe('q=refund');
  });

  it('is empty without filters, and reads back as the same filters', () => {
    expect(ruleFilterOf(filtersOf(DEFAULT_VIEW))).toBe('');
    const view = parseView(new URLSearchParams('module=booking&q=a%26b%20c&flag=bulk_export'));
    const back = parseView(new URLSearchParams(ruleFilterOf(filtersOf(view))));
    expect(filtersOf(back)).toEqual(filtersOf(view));
  });
});
