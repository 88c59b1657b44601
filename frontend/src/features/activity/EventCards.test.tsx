import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import { makeEvent } from '../../test/fixtures';
import { EventCards, type EventCardsProps } from './EventCards';

function renderCards(props: Partial<EventCardsProps> = {}) {
  const handlers = { onSort: vi.fn(), onOpenDetails: vi.fn(), onSelect: vi.fn() };
  render(
    <MemoryRouter>
      <EventCards
        events={[makeEvent(1), makeEvent(2)]}
        loading={false}
        sort="occurred_at"
        order="desc"
        timeZone="Europe/London"
        skeletonCards={3}
        selected={new Set()}
        {...handlers}
        {...props}
      />
    </MemoryRouter>,
  );
  return handlers;
}

const card = (id: number) => document.querySelector<HTMLElement>(`[data-event-id="${id}"]`)!;

describe('EventCards', () => {
  it('shows each event’s time, who, what, record and flags', () => {
    const flagged = makeEvent(1, { flags: [{ kind: 'odd_hours', reason: 'Sat 03:00, outside business hours' }] });
    renderCards({ events: [flagged, makeEvent(2)] });
    const list = screen.getByRole('list', { name: 'Activity log' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);

    const first = within(card(1));
    expect(first.getByText('20 Nov 2026, 11:59:00')).toHaveAttribute('datetime', makeEvent(1).occurred_at);
    expect(first.getByText('Bob Manager')).toBeInTheDocument();
    expect(first.getByText('Manager')).toBeInTheDocument();
    expect(first.getByText('Booking')).toHaveClass('badge--blue');
    expect(first.getByText('Updated')).toBeInTheDocument();
    expect(first.getByRole('link', { name: 'BOK-1001' })).toHaveAttribute('href', '/records/booking/1001');
    expect(first.getByTestId('flag-badge')).toHaveTextContent('Flagged: Outside business hours');
    expect(within(card(2)).queryByTestId('flag-badge')).toBeNull();
  });

  it('opens the details from the card’s button, by click, Enter or Space', async () => {
    const user = userEvent.setup();
    const { onOpenDetails } = renderCards();
    const open = within(card(2)).getByRole('button', { name: 'Details of activity 2: Bob Manager updated booking BOK-1002' });
    await user.click(open);
    expect(onOpenDetails).toHaveBeenLastCalledWith(2);
    open.focus();
    await user.keyboard('{Enter}');
    await user.keyboard(' ');
    expect(onOpenDetails).toHaveBeenCalledTimes(3);
  });

  it('selects a card with its checkbox without opening it, and all cards at once', async () => {
    const user = userEvent.setup();
    const { onSelect, onOpenDetails } = renderCards({ selected: new Set([2]) });
    expect(card(2)).toHaveAttribute('data-selected', 'true');
    expect(screen.getByRole('checkbox', { name: 'Select activity 2' })).toBeChecked();
    await user.click(screen.getByRole('checkbox', { name: 'Select activity 1' }));
    expect(onSelect).toHaveBeenLastCalledWith([1], true);
    const all = screen.getByRole('checkbox', { name: 'Select all activities on this page' });
    expect((all as HTMLInputElement).indeterminate).toBe(true);
    await user.click(all);
    expect(onSelect).toHaveBeenLastCalledWith([1, 2], true);
    expect(onOpenDetails).not.toHaveBeenCalled();
  });

  it('sorts with one choice per column and direction', async () => {
    const user = userEvent.setup();
    const { onSort } = renderCards();
    const sort = screen.getByRole('combobox', { name: 'Sort' });
    expect(sort).toHaveValue('occurred_at:desc');
    await user.selectOptions(sort, 'User A–Z');
    expect(onSort).toHaveBeenLastCalledWith('actor', 'asc');
    await user.selectOptions(sort, 'Oldest first');
    expect(onSort).toHaveBeenLastCalledWith('occurred_at', 'asc');
  });

  it('offers no IP sort when the IP is hidden from the viewer', () => {
    renderCards({ events: [makeEvent(1, { ip: null, withheld: ['ip'] } as never)] });
    const options = within(screen.getByRole('combobox', { name: 'Sort' })).getAllByRole('option');
    expect(options.map((o) => o.textContent)).not.toContain('IP address ascending');
  });

  it('shows a deleted entry without its content', () => {
    renderCards({
      events: [
        makeEvent(3, {
          description: '',
          actor: { id: '', name: '', email: null, role: null, type: 'user' },
          deleted_at: '2026-11-20T10:00:00Z',
        }),
      ],
    });
    expect(within(card(3)).getByRole('button', { name: 'Details of activity 3: Deleted entry' })).toBeInTheDocument();
  });

  it('marks the list busy, and dims the old cards while the next page loads', () => {
    renderCards({ loading: true, stale: true });
    const list = screen.getByTestId('activity-cards');
    expect(list).toHaveAttribute('aria-busy', 'true');
    expect(list).toHaveAttribute('data-stale', 'true');
  });

  it('shows placeholder cards while the first page loads', () => {
    renderCards({ events: [], loading: true, skeletonCards: 4 });
    expect(screen.getByTestId('activity-cards').querySelectorAll('li[aria-hidden="true"]')).toHaveLength(4);
  });
});
