import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import { Pagination } from '../../components/Pagination';
import { makeEvent } from '../../test/fixtures';
import { ActivityTable, type ActivityTableProps } from './ActivityTable';

function renderTable(props: Partial<ActivityTableProps> = {}) {
  const onSort = vi.fn();
  const onOpenDetails = vi.fn();
  const onSelect = vi.fn();
  render(
    <MemoryRouter>
      <ActivityTable
        events={[makeEvent(1), makeEvent(2)]}
        loading={false}
        sort="occurred_at"
        order="desc"
        onSort={onSort}
        onOpenDetails={onOpenDetails}
        timeZone="Europe/London"
        skeletonRows={5}
        selected={new Set()}
        onSelect={onSelect}
        {...props}
      />
    </MemoryRouter>,
  );
  return { onSort, onOpenDetails, onSelect };
}

describe('ActivityTable sorting', () => {
  it('marks the sorted column with aria-sort and the others as sortable', () => {
    renderTable({ sort: 'actor', order: 'asc' });
    expect(screen.getByRole('columnheader', { name: /User/ })).toHaveAttribute('aria-sort', 'ascending');
    for (const name of ['Type', 'Event', 'IP Address', 'Date/Time']) {
      expect(screen.getByRole('columnheader', { name })).toHaveAttribute('aria-sort', 'none');
    }
    expect(screen.getByRole('columnheader', { name: 'Description' })).not.toHaveAttribute('aria-sort');
    expect(within(screen.getByRole('columnheader', { name: 'Description' })).queryByRole('button')).toBeNull();
  });

  it('toggles the direction on the sorted column and starts other columns sensibly', async () => {
    const user = userEvent.setup();
    const { onSort } = renderTable({ sort: 'occurred_at', order: 'desc' });
    await user.click(screen.getByRole('button', { name: /Date\/Time/ }));
    expect(onSort).toHaveBeenLastCalledWith('occurred_at', 'asc');
    await user.click(screen.getByRole('button', { name: /IP Address/ }));
    expect(onSort).toHaveBeenLastCalledWith('ip', 'asc');
    await user.click(screen.getByRole('button', { name: /Type/ }));
    expect(onSort).toHaveBeenLastCalledWith('module', 'asc');
  });

  it('renders a row per event with badges, a record link and a details button', async () => {
    const user = userEvent.setup();
    const { onOpenDetails } = renderTable();
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByRole('link', { name: 'BOK-1001' })).toHaveAttribute('href', '/records/booking/1001');
    expect(within(rows[0]).getByText('Booking')).toHaveClass('badge--blue');
    await user.click(within(rows[1]).getByRole('button', { name: 'Details of activity 2' }));
    expect(onOpenDetails).toHaveBeenCalledWith(2);
  });

  it('selects single rows and every row of the page', async () => {
    const user = userEvent.setup();
    const { onSelect } = renderTable({ selected: new Set([2]) });
    expect(screen.getByRole('checkbox', { name: 'Select activity 2' })).toBeChecked();
    const all = screen.getByRole('checkbox', { name: 'Select all activities on this page' });
    expect(all).not.toBeChecked();
    expect((all as HTMLInputElement).indeterminate).toBe(true);
    await user.click(screen.getByRole('checkbox', { name: 'Select activity 1' }));
    expect(onSelect).toHaveBeenLastCalledWith([1], true);
    await user.click(all);
    expect(onSelect).toHaveBeenLastCalledWith([1, 2], true);
  });

  it('shows a deleted entry without its content', () => {
    const tombstone = makeEvent(3, {
      description: '',
      actor: { id: '', name: '', email: null, role: null, type: 'user' },
      deleted_at: '2026-11-20T10:00:00Z',
      deleted_by: 'a1',
    });
    renderTable({ events: [makeEvent(1), tombstone] });
    const row = screen.getAllByRole('row').find((r) => within(r).queryByText('Deleted entry'));
    expect(row).toBeDefined();
    expect(screen.getAllByText('Deleted entry')).toHaveLength(1);
  });

  it('marks flagged rows with a badge naming the kinds, and leaves the others bare', () => {
    const flagged = makeEvent(1, {
      flags: [
        { kind: 'odd_hours', reason: 'Sat 03:00 in Europe/London, outside business hours (Mon–Fri 07:00–20:00)' },
        { kind: 'new_user_agent', reason: "Bob Manager's first event from Safari on iOS in 90 days" },
      ],
    });
    renderTable({ events: [flagged, makeEvent(2)] });
    expect(screen.getByRole('columnheader', { name: 'Flags' })).not.toHaveAttribute('aria-sort');
    const [first, second] = screen.getAllByRole('row').slice(1);
    const badge = within(first).getByTestId('flag-badge');
    expect(badge).toHaveTextContent('Flagged: Outside business hours, New browser');
    expect(badge).toHaveAttribute('title', expect.stringContaining('Outside business hours: Sat 03:00 in Europe/London'));
    expect(badge).toHaveAttribute('title', expect.stringContaining('New browser: Bob Manager'));
    expect(within(second).queryByTestId('flag-badge')).toBeNull();
    expect(screen.getAllByTestId('flag-badge')).toHaveLength(1);
  });

  it('shows skeleton rows while the first page loads', () => {
    renderTable({ events: [], loading: true, skeletonRows: 4 });
    expect(screen.getByTestId('activity-table')).toHaveAttribute('aria-busy', 'true');
    expect(screen.getByTestId('activity-table').querySelectorAll('tbody tr')).toHaveLength(4);
  });
});

describe('Pagination', () => {
  function renderPagination(page: number, total: number, perPage = 25) {
    const onPageChange = vi.fn();
    const onPerPageChange = vi.fn();
    render(
      <Pagination
        page={page}
        perPage={perPage}
        total={total}
        noun="activities"
        one="activity"
        onPageChange={onPageChange}
        onPerPageChange={onPerPageChange}
      />,
    );
    return { onPageChange, onPerPageChange };
  }

  it('summarises the range shown and marks the current page', () => {
    renderPagination(3, 240);
    expect(screen.getByText('Showing 51–75 of 240 activities')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Page 3' })).toHaveAttribute('aria-current', 'page');
    const pages = within(screen.getByRole('navigation', { name: 'Pagination' }))
      .getAllByRole('button', { name: /^Page/ })
      .map((b) => b.textContent);
    expect(pages).toEqual(['1', '2', '3', '4', '10']);
  });

  it('moves between pages and disables what cannot be used', async () => {
    const user = userEvent.setup();
    const { onPageChange } = renderPagination(1, 60);
    expect(screen.getByRole('button', { name: 'Previous page' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Next page' }));
    expect(onPageChange).toHaveBeenLastCalledWith(2);
    await user.click(screen.getByRole('button', { name: 'Page 3' }));
    expect(onPageChange).toHaveBeenLastCalledWith(3);
  });

  it('disables Next on the last page', () => {
    renderPagination(3, 60);
    expect(screen.getByRole('button', { name: 'Next page' })).toBeDisabled();
  });

  it('offers 10, 25, 50 and 100 rows per page', async () => {
    const user = userEvent.setup();
    const { onPerPageChange } = renderPagination(1, 500);
    const select = screen.getByRole('combobox', { name: 'Rows per page' });
    expect(
      within(select)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['10', '25', '50', '100']);
    await user.selectOptions(select, '100');
    expect(onPerPageChange).toHaveBeenCalledWith(100);
  });
});

describe('ActivityTable record links', () => {
  it('offers “Open in …” beside a record whose type has a template, and only then', () => {
    renderTable({
      events: [
        makeEvent(1, { entity: { type: 'booking', id: 'B/1', label: 'BOK-1' } }),
        makeEvent(2, { entity: { type: 'invoice', id: '7', label: 'INV-7' } }),
      ],
      recordLinks: { app_name: 'Acme CRM', templates: [{ entity_type: 'booking', url: 'https://crm.acme.example/b/{id}' }] },
    });
    const links = screen.getAllByRole('link', { name: /Open in Acme CRM/ });
    expect(links).toHaveLength(1);
    expect(links[0]).toHaveAttribute('href', 'https://crm.acme.example/b/B%2F1');
    expect(links[0]).toHaveAttribute('rel', 'noopener noreferrer');
    expect(links[0]).toHaveAttribute('target', '_blank');
    expect(screen.getByRole('link', { name: 'BOK-1' })).toHaveAttribute('href', '/records/booking/B%2F1');
  });
});
