import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { EMPTY_FILTERS, parseView, filtersOf, type ActivityFilters } from './filterSchema';
import { filterChips, type FilterChip } from './filterChips';
import { FilterChips } from './FilterChips';

const filtersFrom = (query: string): ActivityFilters => filtersOf(parseView(new URLSearchParams(query)));

describe('filterChips', () => {
  it('says every applied filter in the filter bar’s words', () => {
    const filters = filtersFrom(
      'range=last_30_days&actor_id=user-2&module=invoice&verb=status_changed&ip=86.52&q=late&flag=odd_hours&scope=mine',
    );
    expect(filterChips(filters, new Map([['user-2', 'Bob Manager']])).map((c) => c.text)).toEqual([
      'Last 30 days',
      'User: Bob Manager',
      'Type: Invoice',
      'Event: Status changed',
      'IP address: 86.52',
      'Search: “late”',
      'Flagged: Outside business hours',
      'Whose activity: Only mine',
    ]);
  });

  it('has none for no filters, and none for the default whose-activity', () => {
    expect(filterChips(EMPTY_FILTERS, new Map())).toEqual([]);
    expect(filterChips(filtersFrom('scope=all&sort=actor&order=asc&page=3&per_page=50'), new Map())).toEqual([]);
  });

  it('shows a user by id when the name is not known', () => {
    expect(filterChips(filtersFrom('actor_id=api-key-7'), new Map()).map((c) => c.text)).toEqual(['User: api-key-7']);
  });

  it('removes exactly the filter of its chip', () => {
    const filters = filtersFrom('from=2026-11-01&to=2026-11-30&module=invoice&q=late&scope=mine');
    const byKey = Object.fromEntries(filterChips(filters, new Map()).map((c) => [c.key, c]));
    expect(Object.keys(byKey)).toEqual(['from', 'to', 'module', 'q', 'scope']);
    expect(byKey.from.text).toBe('From: 2026-11-01');
    // One end of custom dates goes; the other stays, still a custom range.
    expect({ ...filters, ...byKey.from.remove }).toMatchObject({ range: 'custom', from: null, to: '2026-11-30' });
    expect({ ...filters, ...byKey.module.remove }).toEqual({ ...filters, module: null });
    expect({ ...filters, ...byKey.q.remove }).toEqual({ ...filters, q: '' });
    expect({ ...filters, ...byKey.scope.remove }).toEqual({ ...filters, scope: 'all' });

    const onlyFrom = filtersFrom('from=2026-11-01');
    const [chip] = filterChips(onlyFrom, new Map());
    expect({ ...onlyFrom, ...chip.remove }).toMatchObject({ range: null, from: null, to: null });

    const preset = filtersFrom('range=today');
    expect(filterChips(preset, new Map())[0].remove).toEqual({ range: null, from: null, to: null });
  });
});

describe('FilterChips', () => {
  const chips: FilterChip[] = [
    { key: 'range', text: 'Last 30 days', remove: { range: null } },
    { key: 'module', text: 'Type: Invoice', remove: { module: null } },
  ];

  it('renders nothing without filters', () => {
    const { container } = render(<FilterChips chips={[]} onRemove={vi.fn()} onClearAll={vi.fn()} />);
    expect(container).toBeEmptyDOMElement();
  });

  it('offers a remove button per chip and Clear all for two or more', async () => {
    const user = userEvent.setup();
    const onRemove = vi.fn();
    const onClearAll = vi.fn();
    const { rerender } = render(<FilterChips chips={chips} onRemove={onRemove} onClearAll={onClearAll} />);
    const group = screen.getByRole('group', { name: 'Applied filters' });
    expect(
      within(group)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['Last 30 days×', 'Type: Invoice×']);

    await user.click(screen.getByRole('button', { name: 'Remove filter Type: Invoice' }));
    expect(onRemove).toHaveBeenCalledWith(chips[1]);
    await user.click(screen.getByRole('button', { name: 'Clear all' }));
    expect(onClearAll).toHaveBeenCalledTimes(1);

    rerender(<FilterChips chips={[chips[0]]} onRemove={onRemove} onClearAll={onClearAll} />);
    expect(screen.queryByRole('button', { name: 'Clear all' })).toBeNull();
  });

  it('moves the focus to the chip that takes the removed one’s place', async () => {
    const user = userEvent.setup();
    const three = [...chips, { key: 'q', text: 'Search: “late”', remove: { q: '' } }];
    const { rerender } = render(<FilterChips chips={three} onRemove={vi.fn()} onClearAll={vi.fn()} />);
    await user.click(screen.getByRole('button', { name: 'Remove filter Type: Invoice' }));
    rerender(<FilterChips chips={[three[0], three[2]]} onRemove={vi.fn()} onClearAll={vi.fn()} />);
    expect(screen.getByRole('button', { name: 'Remove filter Search: “late”' })).toHaveFocus();

    await user.click(screen.getByRole('button', { name: 'Remove filter Search: “late”' }));
    rerender(<FilterChips chips={[three[0]]} onRemove={vi.fn()} onClearAll={vi.fn()} />);
    expect(screen.getByRole('button', { name: 'Remove filter Last 30 days' })).toHaveFocus();
  });
});
