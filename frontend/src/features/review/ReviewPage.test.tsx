import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { FlagSummary } from '../../api';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { activityLinkFor, ReviewPage } from './ReviewPage';

const summary: FlagSummary = {
  total: 14,
  kinds: [
    { kind: 'odd_hours', count: 9 },
    { kind: 'new_ip', count: 4 },
    { kind: 'new_user_agent', count: 3 },
    { kind: 'failed_login_burst', count: 1 },
    { kind: 'bulk_delete', count: 0 },
    { kind: 'bulk_export', count: 0 },
    { kind: 'privilege_change', count: 2 },
  ],
};
const empty: FlagSummary = { total: 0, kinds: summary.kinds.map((k) => ({ ...k, count: 0 })) };

const summaryRequests = (requests: URL[]) => requests.filter((u) => u.pathname === '/api/v1/stats/flags');
const card = (kind: string) => document.querySelector<HTMLElement>(`[data-flag-kind="${kind}"]`)!;

describe('ReviewPage', () => {
  it('asks for the last 7 days in the business zone, then shows every kind with its count', async () => {
    const requests = stubApi({ '/api/v1/stats/flags': () => summary });
    renderWithProviders(<ReviewPage />, { url: '/review', path: '/review' });
    expect(screen.getByLabelText('Loading the flagged events')).toHaveAttribute('aria-busy', 'true');
    expect(await screen.findByTestId('flag-total')).toHaveTextContent('14 flagged events');
    expect(Object.fromEntries(summaryRequests(requests)[0].searchParams)).toEqual({
      range: 'last_7_days',
      tz: 'Europe/London',
    });
    expect(screen.getByRole('combobox', { name: 'Period' })).toHaveValue('last_7_days');

    const groups = within(screen.getByRole('list', { name: 'Flags by kind' })).getAllByRole('listitem');
    expect(groups.map((g) => [g.querySelector('h2')!.textContent, within(g).getByTestId('flag-count').textContent])).toEqual([
      ['Outside business hours', '9'],
      ['New network', '4'],
      ['New browser', '3'],
      ['Failed sign-in burst', '1'],
      ['Bulk deletion', '0'],
      ['Bulk export', '0'],
      ['Privilege change', '2'],
    ]);
    expect(card('odd_hours')).toHaveTextContent('outside the business hours');
  });

  it('links each group to the activity list with its flag and the same period', async () => {
    stubApi({ '/api/v1/stats/flags': () => summary });
    renderWithProviders(<ReviewPage />, { url: '/review?range=last_30_days', path: '/review' });
    await screen.findByTestId('flag-total');
    expect(within(card('new_ip')).getByRole('link', { name: 'New network' })).toHaveAttribute(
      'href',
      '/?range=last_30_days&flag=new_ip',
    );
    expect(screen.getByRole('link', { name: 'Show all flagged events' })).toHaveAttribute(
      'href',
      '/?range=last_30_days&flag=any',
    );
    // A group with nothing in it has nothing to open.
    expect(within(card('bulk_delete')).queryByRole('link')).toBeNull();
    expect(activityLinkFor('today', 'privilege_change')).toBe('/?range=today&flag=privilege_change');
  });

  it('asks again for another period, kept in the URL', async () => {
    const requests = stubApi({
      '/api/v1/stats/flags': (url) => (url.searchParams.get('range') === 'today' ? empty : summary),
    });
    const { router } = renderWithProviders(<ReviewPage />, { url: '/review', path: '/review' });
    await screen.findByTestId('flag-total');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Period' }), 'Today');
    await waitFor(() => expect(router.state.location.search).toBe('?range=today'));
    expect(await screen.findByText('No flagged events in this period')).toBeInTheDocument();
    expect(summaryRequests(requests).map((u) => u.searchParams.get('range'))).toEqual(['last_7_days', 'today']);
    expect(screen.queryByRole('list', { name: 'Flags by kind' })).toBeNull();
  });

  it('shows the problem and retries', async () => {
    let fail = true;
    stubApi({
      '/api/v1/stats/flags': () => (fail ? problem(503, 'Service Unavailable', 'database unavailable') : summary),
    });
    renderWithProviders(<ReviewPage />, { url: '/review', path: '/review' });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The security review could not be loaded');
    expect(alert).toHaveTextContent('database unavailable');
    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByTestId('flag-total')).toHaveTextContent('14 flagged events');
  });
});
