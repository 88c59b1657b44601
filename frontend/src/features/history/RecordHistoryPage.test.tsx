import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../api';
import { makeEvent } from '../../test/fixtures';
import { renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { milestoneOf, milestonesOf } from './milestones';
import { RecordHistoryPage } from './RecordHistoryPage';

const HISTORY = '/api/v1/entities/customer/C-7/history';
const customer = { type: 'customer', id: 'C-7', label: 'Jane Doe' };

const page = (items: AuditEvent[], hidden?: number, next_cursor: string | null = null) => ({
  items,
  page: 1,
  per_page: 25,
  total: items.length,
  total_is_estimate: false,
  next_cursor,
  ...(hidden === undefined ? {} : { hidden }),
});

/** Newest first: deleted, a related booking's status change, its own status change, created. */
const lifecycle = [
  makeEvent(1, { verb: 'deleted', action: 'customer.deleted', module: 'customer', entity: customer, related: [], changes: [] }),
  makeEvent(2, { entity: { type: 'booking', id: 'B-1', label: 'BOK-1' }, related: [customer] }),
  makeEvent(3, {
    verb: 'updated',
    action: 'customer.updated',
    module: 'customer',
    entity: customer,
    related: [],
    changes: [
      { field: 'phone', old: '1', new: '2' },
      { field: 'State', old: 'lead', new: 'active' },
    ],
  }),
  makeEvent(4, { verb: 'created', action: 'customer.created', module: 'customer', entity: customer, related: [], changes: [] }),
];

const facets = {
  '/api/v1/facets/actions': () => ({
    items: [
      { action: 'customer.created', module: 'customer', verb: 'created', count: 1 },
      { action: 'booking.updated', module: 'booking', verb: 'updated', count: 2 },
    ],
  }),
  '/api/v1/facets/modules': () => ({ items: [] }),
  '/api/v1/facets/actors': () => ({ items: [{ id: 'user-2', name: 'Bob Manager', email: null, count: 4 }] }),
};

const at = (url: string) => renderWithProviders(<RecordHistoryPage />, { url, path: '/records/:type/:id' });
const historyRequests = (requests: URL[]) => requests.filter((u) => u.pathname === HISTORY);

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('RecordHistoryPage', () => {
  it('offers the record in the host application beside its title', async () => {
    stubApi({
      '/api/v1/entities/booking/B-7/history': () => page([], 0),
      '/api/v1/settings/record-links': () => ({
        app_name: 'Acme CRM',
        templates: [{ entity_type: 'booking', url: 'https://crm.acme.example/bookings/{id}' }],
      }),
    });
    renderWithProviders(<RecordHistoryPage />, { url: '/records/booking/B-7', path: '/records/:type/:id' });
    const link = await screen.findByRole('link', { name: /Open in Acme CRM/ });
    expect(link).toHaveAttribute('href', 'https://crm.acme.example/bookings/B-7');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    expect(link).toHaveAttribute('target', '_blank');
  });

  it('says how many entries the role hides', async () => {
    stubApi({ ...facets, [HISTORY]: () => page(lifecycle, 2) });
    at('/records/customer/C-7');
    expect(await screen.findByTestId('history-hidden')).toHaveTextContent('2 entries of this record are hidden from your role.');
  });

  it('says nothing when nothing is hidden', async () => {
    stubApi({ ...facets, [HISTORY]: () => page(lifecycle, 0) });
    at('/records/customer/C-7');
    expect(await screen.findByTestId('history-timeline')).toBeInTheDocument();
    expect(screen.queryByTestId('history-hidden')).toBeNull();
  });

  it('keeps the first page’s hidden count while older pages load (they do not repeat it)', async () => {
    let calls = 0;
    stubApi({
      ...facets,
      [HISTORY]: (url) => {
        calls += 1;
        return url.searchParams.get('cursor') ? page([makeEvent(9, { entity: customer })]) : page(lifecycle, 1, 'next');
      },
    });
    at('/records/customer/C-7');
    expect(await screen.findByTestId('history-hidden')).toHaveTextContent('1 entry of this record is hidden');
    await userEvent.click(screen.getByRole('button', { name: 'Load older activity' }));
    await waitFor(() => expect(calls).toBe(2));
    expect(await screen.findByText('Bob Manager updated booking BOK-1009')).toBeInTheDocument();
    expect(screen.getByTestId('history-hidden')).toHaveTextContent('1 entry');
  });

  it('takes date, user and event filters from the URL, shows them and resets them', async () => {
    const requests = stubApi({ ...facets, [HISTORY]: () => page(lifecycle, 0) });
    const { router } = at('/records/customer/C-7?range=last_7_days&actor_id=user-2&verb=created');
    await screen.findByTestId('history-timeline');
    const sent = Object.fromEntries(historyRequests(requests)[0].searchParams);
    expect(sent).toEqual({ range: 'last_7_days', actor_id: 'user-2', verb: 'created', tz: 'Europe/London', per_page: '25' });
    const applied = screen.getByTestId('history-applied-filters');
    expect(applied).toHaveTextContent('Date range: Last 7 days');
    expect(applied).toHaveTextContent('User: Bob Manager');
    expect(applied).toHaveTextContent('Event: Created');
    // Only the history's filters are offered.
    const form = screen.getByRole('search', { name: 'Filter this history' });
    expect(within(form).queryByLabelText('IP address')).toBeNull();
    expect(within(form).queryByRole('combobox', { name: 'Type' })).toBeNull();

    await userEvent.click(within(form).getByRole('button', { name: 'Reset' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
    await waitFor(() => expect(historyRequests(requests).at(-1)?.searchParams.get('verb')).toBeNull());
    expect(screen.queryByTestId('history-applied-filters')).toBeNull();
  });

  it('applies a chosen date range and event through the URL', async () => {
    const requests = stubApi({ ...facets, [HISTORY]: () => page(lifecycle, 0) });
    const { router } = at('/records/customer/C-7?view=timeline');
    await screen.findByTestId('history-timeline');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Date range' }), 'Custom dates');
    await userEvent.type(screen.getByLabelText('From date'), '2026-11-01');
    await userEvent.selectOptions(await screen.findByRole('combobox', { name: 'Event' }), 'Created');
    await userEvent.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(router.state.location.search).toBe('?from=2026-11-01&verb=created&view=timeline'));
    await waitFor(() => {
      const last = historyRequests(requests).at(-1)!.searchParams;
      expect([last.get('from'), last.get('verb')]).toEqual(['2026-11-01', 'created']);
    });
  });

  it('switches to a timeline that marks the record’s milestones, kept in the URL', async () => {
    stubApi({ ...facets, [HISTORY]: () => page(lifecycle, 0) });
    const { router } = at('/records/customer/C-7');
    const list = await screen.findByTestId('history-timeline');
    expect(list).toHaveAttribute('data-layout', 'list');
    expect(within(list).queryAllByRole('heading', { level: 3 })).toHaveLength(0);

    await userEvent.click(screen.getByRole('radio', { name: 'Timeline' }));
    await waitFor(() => expect(router.state.location.search).toBe('?view=timeline'));
    const timeline = screen.getByTestId('history-timeline');
    expect(timeline).toHaveAttribute('data-layout', 'timeline');
    const headings = within(timeline)
      .getAllByRole('heading', { level: 3 })
      .map((h) => h.textContent);
    expect(headings).toEqual(['Milestone: Deleted', 'Milestone: State: lead → active', 'Milestone: Created']);
    // The related booking's change is an ordinary entry.
    expect(timeline.querySelector('[data-event-id="2"]')).not.toHaveAttribute('data-milestone');
    expect(timeline.querySelector('[data-event-id="1"]')).toHaveAttribute('data-milestone', 'deleted');

    await userEvent.click(screen.getByRole('radio', { name: 'List' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
  });

  it('exports exactly the history: the record and the same filters', async () => {
    const opened: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      opened.push(this.getAttribute('href') ?? '');
    });
    const requests = stubApi({
      ...facets,
      [HISTORY]: () => page(lifecycle, 0),
      '/api/v1/events/export/link': () => ({ url: '/api/v1/downloads/t0k', expires_at: '2026-12-07T18:00:00Z' }),
    });
    at('/records/customer/C-7?actor_id=user-2');
    await screen.findByTestId('history-timeline');
    await userEvent.click(screen.getByRole('button', { name: 'Export history…' }));
    const dialog = await screen.findByRole('dialog', { name: "Export this record's history" });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(opened).toEqual(['/api/v1/downloads/t0k']));
    const exported = requests.find((u) => u.pathname === '/api/v1/events/export/link')!;
    expect(Object.fromEntries(exported.searchParams)).toEqual({
      record_type: 'customer',
      record_id: 'C-7',
      actor_id: 'user-2',
      format: 'csv',
      bom: '1',
      sort: 'occurred_at',
      order: 'desc',
      tz: 'Europe/London',
    });
    expect(await screen.findByText(/Your CSV download has started/)).toBeInTheDocument();
  });
});

describe('milestones', () => {
  const own = () => true;

  it('marks the oldest own entry as the first only when the whole history is loaded and unfiltered', () => {
    const events = [makeEvent(1, { entity: customer, changes: [] }), makeEvent(2, { entity: customer, changes: [] })];
    expect(milestonesOf(events, own, true).get(2)).toEqual({ kind: 'first', title: 'First recorded activity' });
    expect(milestonesOf(events, own, false).size).toBe(0);
  });

  it('reads a status change, a deletion and a tombstone', () => {
    expect(milestoneOf(makeEvent(1, { changes: [{ field: 'status', new: 'open' }] }), { isOwn: true, first: false })).toEqual({
      kind: 'status',
      title: 'Status: empty → open',
    });
    expect(milestoneOf(makeEvent(1, { verb: 'deleted' }), { isOwn: false, first: false })).toBeNull();
    expect(milestoneOf(makeEvent(1, { deleted_at: '2026-11-20T12:00:00Z' }), { isOwn: false, first: false })?.kind).toBe(
      'entry_deleted',
    );
  });
});
