import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { demoUser, makeEvent, makePage } from '../../test/fixtures';
import { eventStream, problem, renderWithProviders, sse, stubApi, tooManyRequests } from '../../test/renderWithProviders';
import { ActivityPage } from './ActivityPage';

const facets = {
  '/api/v1/facets/modules': () => ({
    items: [
      { value: 'booking', count: 3 },
      { value: 'invoice', count: 2 },
    ],
  }),
  '/api/v1/facets/actions': () => ({
    items: [
      { action: 'booking.created', module: 'booking', verb: 'created', count: 1 },
      { action: 'booking.updated', module: 'booking', verb: 'updated', count: 2 },
      { action: 'invoice.sent', module: 'invoice', verb: 'sent', count: 2 },
    ],
  }),
  '/api/v1/facets/actors': () => ({ items: [{ id: 'user-2', name: 'Bob Manager', email: 'bob@acme.example', count: 5 }] }),
  '/api/v1/stats/timeline': () => ({
    bucket: 'day',
    tz: 'Europe/London',
    total: 5,
    from: '2026-11-19T00:00:00Z',
    until: '2026-11-20T15:00:00Z',
    buckets: [
      { start: '2026-11-19T00:00:00Z', end: '2026-11-20T00:00:00Z', label: '2026-11-19', count: 2, partial: false },
      { start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z', label: '2026-11-20', count: 3, partial: true },
    ],
  }),
};

const listRequests = (requests: URL[]) => requests.filter((u) => u.pathname === '/api/v1/events');

describe('ActivityPage', () => {
  it('loads the newest activity first in the business time zone', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1), makeEvent(2)], 2) });
    renderWithProviders(<ActivityPage />);
    expect(await screen.findByRole('link', { name: 'BOK-1001' })).toBeInTheDocument();
    const query = Object.fromEntries(listRequests(requests)[0].searchParams);
    expect(query).toEqual({ sort: 'occurred_at', order: 'desc', page: '1', per_page: '25', tz: 'Europe/London' });
    expect(screen.getByText('Showing 1–2 of 2 activities')).toBeInTheDocument();
  });

  it('takes the view from the URL and sorts through the URL', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 80, 2, 10) });
    const { router } = renderWithProviders(<ActivityPage />, { url: '/?module=booking&page=2&per_page=10' });
    await screen.findByRole('link', { name: 'BOK-1001' });
    expect(listRequests(requests)[0].searchParams.get('module')).toBe('booking');
    expect(listRequests(requests)[0].searchParams.get('page')).toBe('2');

    await userEvent.click(screen.getByRole('button', { name: 'User' }));
    await waitFor(() => expect(router.state.location.search).toBe('?module=booking&sort=actor&order=asc&per_page=10'));
    await waitFor(() => expect(listRequests(requests).at(-1)?.searchParams.get('sort')).toBe('actor'));
  });

  it('offers admins an alert rule with the filters shown, without dates, whose activity, sort or page', async () => {
    stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 80, 2, 10) });
    const { router } = renderWithProviders(<ActivityPage />, {
      url: '/?range=today&module=booking&flag=any&scope=mine&sort=actor&order=asc&page=2&per_page=10',
    });
    await screen.findByRole('link', { name: 'BOK-1001' });
    const link = screen.getByRole('link', { name: 'Create alert from these filters' });
    expect(link).toHaveAttribute('href', '/admin/alerts/new?filter=module%3Dbooking%26flag%3Dany');

    await userEvent.click(screen.getByRole('button', { name: 'Reset' }));
    await waitFor(() => expect(router.state.location.search).not.toContain('module'));
    expect(screen.getByRole('link', { name: 'Create alert from these filters' })).toHaveAttribute('href', '/admin/alerts/new');
  });

  it('offers no alert rule to anyone but admins', async () => {
    stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    renderWithProviders(<ActivityPage />, { url: '/?module=booking', user: { ...demoUser, role: 'manager' } });
    await screen.findByRole('link', { name: 'BOK-1001' });
    expect(screen.queryByRole('link', { name: 'Create alert from these filters' })).toBeNull();
  });

  it('applies staged filters with the Filter button', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    const { router } = renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const user = userEvent.setup();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Date range' }), 'last_7_days');
    await screen.findByRole('option', { name: 'Invoice' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Type' }), 'invoice');
    expect(
      within(screen.getByRole('combobox', { name: 'Event' }))
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual(['All events', 'Sent']);
    await user.selectOptions(screen.getByRole('combobox', { name: 'Event' }), 'sent');
    expect(listRequests(requests)).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(router.state.location.search).toBe('?range=last_7_days&module=invoice&verb=sent'));
    await waitFor(() => expect(listRequests(requests)).toHaveLength(2));
    expect(Object.fromEntries(listRequests(requests)[1].searchParams)).toMatchObject({
      range: 'last_7_days',
      module: 'invoice',
      verb: 'sent',
    });
  });

  it('narrows to flagged events with the Flagged filter, for the list and the chart, and Reset clears it', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    const { router } = renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const user = userEvent.setup();
    const flagged = screen.getByRole('combobox', { name: 'Flagged' });
    expect(
      within(flagged)
        .getAllByRole('option')
        .map((o) => o.textContent),
    ).toEqual([
      'All activity',
      'Any flag',
      'Outside business hours',
      'New network',
      'New browser',
      'Failed sign-in burst',
      'Bulk deletion',
      'Bulk export',
      'Privilege change',
    ]);
    await user.selectOptions(flagged, 'Any flag');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(router.state.location.search).toBe('?flag=any'));
    await waitFor(() => expect(listRequests(requests).at(-1)?.searchParams.get('flag')).toBe('any'));
    await waitFor(() =>
      expect(
        requests
          .filter((u) => u.pathname === '/api/v1/stats/timeline')
          .at(-1)
          ?.searchParams.get('flag'),
      ).toBe('any'),
    );

    await user.selectOptions(screen.getByRole('combobox', { name: 'Flagged' }), 'Bulk export');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(router.state.location.search).toBe('?flag=bulk_export'));
    await waitFor(() => expect(listRequests(requests).at(-1)?.searchParams.get('flag')).toBe('bulk_export'));

    await user.click(screen.getByRole('button', { name: 'Reset' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
    expect(screen.getByRole('combobox', { name: 'Flagged' })).toHaveValue('');
  });

  it('opens with the flag from the URL and follows it live', async () => {
    const requests = stubApi({
      ...facets,
      '/api/v1/events': () => makePage([makeEvent(1)], 1),
      '/api/v1/events/stream': (_url, request) => eventStream(request, [], { open: true }),
    });
    renderWithProviders(<ActivityPage />, { url: '/?flag=odd_hours' });
    await screen.findByRole('link', { name: 'BOK-1001' });
    expect(screen.getByRole('combobox', { name: 'Flagged' })).toHaveValue('odd_hours');
    expect(listRequests(requests)[0].searchParams.get('flag')).toBe('odd_hours');
    await userEvent.click(screen.getByRole('button', { name: 'Live' }));
    await waitFor(() => expect(screen.getByTestId('live-status')).toHaveTextContent('Watching for new activity'));
    const stream = requests.find((u) => u.pathname === '/api/v1/events/stream')!;
    expect(Object.fromEntries(stream.searchParams)).toEqual({ flag: 'odd_hours', tz: 'Europe/London' });
    await userEvent.click(screen.getByRole('button', { name: 'Live' }));
  });

  it('searches as you type without a request per keystroke', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), 'BOK-10');
    await waitFor(() => expect(listRequests(requests).at(-1)?.searchParams.get('q')).toBe('BOK-10'));
    expect(listRequests(requests).filter((u) => u.searchParams.has('q'))).toHaveLength(1);
  });

  it('picks a user by searching the actors facet', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    const { router } = renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const user = userEvent.setup();
    await user.type(screen.getByRole('combobox', { name: 'User' }), 'bob');
    await waitFor(() =>
      expect(requests.some((u) => u.pathname === '/api/v1/facets/actors' && u.searchParams.get('q') === 'bob')).toBe(true),
    );
    await user.click(await screen.findByRole('option', { name: /Bob Manager/ }));
    expect(screen.getByRole('combobox', { name: 'User' })).toHaveValue('Bob Manager');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(router.state.location.search).toBe('?actor_id=user-2'));
  });

  it('shows an empty state when nothing matches', async () => {
    stubApi({ ...facets, '/api/v1/events': () => makePage([], 0) });
    renderWithProviders(<ActivityPage />, { url: '/?q=nothing' });
    expect(await screen.findByText('No activity matches these filters')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Clear all filters' })).toBeInTheDocument();
  });

  it('shows the problem detail and retries on error', async () => {
    let fail = true;
    stubApi({
      ...facets,
      '/api/v1/events': () =>
        fail
          ? new Response(
              JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'Database is busy' }),
              {
                status: 503,
                headers: { 'Content-Type': 'application/problem+json' },
              },
            )
          : makePage([makeEvent(1)], 1),
    });
    renderWithProviders(<ActivityPage />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The activity log could not be loaded');
    expect(alert).toHaveTextContent('Database is busy');
    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('link', { name: 'BOK-1001' })).toBeInTheDocument();
  });

  it('opens the details of an event in a modal kept in the URL', async () => {
    stubApi({
      ...facets,
      '/api/v1/events': () => makePage([makeEvent(1)], 1),
      '/api/v1/events/1': () => makeEvent(1),
    });
    const { router } = renderWithProviders(<ActivityPage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Details of activity 1' }));
    const dialog = await screen.findByRole('dialog', { name: 'Activity #1' });
    expect(router.state.location.search).toBe('?event=1');
    expect(await within(dialog).findByRole('columnheader', { name: 'Previous value' })).toBeInTheDocument();
    expect(within(dialog).getByTestId('detail-actor')).toHaveTextContent('Bob Manager · Manager');
    expect(within(dialog).getByRole('link', { name: 'Customer Ada Lovelace' })).toHaveAttribute('href', '/records/customer/7');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(router.state.location.search).toBe('');
  });

  it('charts activity per day with the same filters, and a day narrows the table to it', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    const { router } = renderWithProviders(<ActivityPage />, { url: '/?module=booking' });
    const chart = await screen.findByTestId('activity-chart');
    expect(within(chart).getByRole('heading', { name: 'Activities per day' })).toBeInTheDocument();
    expect(within(chart).getByTestId('chart-summary')).toHaveTextContent('5 activities from 19 Nov 2026 to 20 Nov 2026');
    const timeline = requests.find((u) => u.pathname === '/api/v1/stats/timeline')!;
    expect(Object.fromEntries(timeline.searchParams)).toEqual({ module: 'booking', tz: 'Europe/London' });
    await userEvent.click(within(chart).getByRole('button', { name: '20 Nov 2026 (partial day): 3 activities. Show this day' }));
    await waitFor(() => expect(router.state.location.search).toBe('?from=2026-11-20&to=2026-11-20&module=booking'));
  });

  it('says live updates are paused, without blocking the page, when too many streams are open', async () => {
    const requests = stubApi({
      ...facets,
      '/api/v1/events': () => makePage([makeEvent(1)], 1),
      '/api/v1/events/stream': () => tooManyRequests('you have 5 live streams open already: close one first', 10),
    });
    renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    await userEvent.click(screen.getByRole('button', { name: 'Live' }));
    await waitFor(() =>
      expect(screen.getByTestId('live-status')).toHaveTextContent(
        'Live updates paused: too many open tabs. Trying again shortly…',
      ),
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'BOK-1001' })).toBeInTheDocument();
    expect(requests.filter((u) => u.pathname === '/api/v1/events/stream')).toHaveLength(1);
  });

  it('shows why live updates stopped when reconnecting after a role change is refused', async () => {
    let streams = 0;
    stubApi({
      ...facets,
      '/api/v1/events': () => makePage([makeEvent(1)], 1),
      '/api/v1/events/stream': (_url, request) =>
        ++streams === 1
          ? eventStream(request, [sse.error(403, 'Forbidden', 'your role or actor id changed since this stream started')])
          : problem(403, 'Forbidden', 'members see their own activity only'),
    });
    renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    await userEvent.click(screen.getByRole('button', { name: 'Live' }));
    await waitFor(() =>
      expect(screen.getByTestId('live-status')).toHaveTextContent('Live updates stopped: members see their own activity only'),
    );
    expect(streams).toBe(2);
  });
});
