import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeEvent, makePage } from '../../test/fixtures';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { ActivityPage, CARDS_QUERY } from './ActivityPage';

const facets = {
  '/api/v1/facets/modules': () => ({ items: [{ value: 'invoice', count: 2 }] }),
  '/api/v1/facets/actions': () => ({ items: [{ action: 'invoice.sent', module: 'invoice', verb: 'sent', count: 2 }] }),
  '/api/v1/stats/timeline': () => ({
    bucket: 'day',
    tz: 'Europe/London',
    total: 1,
    from: '2026-11-20T00:00:00Z',
    until: '2026-11-20T15:00:00Z',
    buckets: [{ start: '2026-11-20T00:00:00Z', end: '2026-11-21T00:00:00Z', label: '2026-11-20', count: 1, partial: true }],
  }),
};

const listRequests = (requests: URL[]) => requests.filter((u) => u.pathname === '/api/v1/events');

/** Makes `query` match (a narrow screen) in a browser without layout. */
function matchMedia(matching: string) {
  vi.stubGlobal('matchMedia', (query: string) => ({
    matches: query === matching,
    media: query,
    addEventListener: () => {},
    removeEventListener: () => {},
  }));
}

describe('ActivityPage filter chips', () => {
  it('shows each applied filter as a chip whose removal updates the URL and the list', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    const { router } = renderWithProviders(<ActivityPage />, { url: '/?range=last_30_days&module=invoice&q=late&page=2' });
    await screen.findByRole('link', { name: 'BOK-1001' });
    const chips = screen.getByRole('group', { name: 'Applied filters' });
    expect(
      within(chips)
        .getAllByRole('listitem')
        .map((li) => li.textContent),
    ).toEqual(['Last 30 days×', 'Type: Invoice×', 'Search: “late”×']);
    expect(screen.getByRole('button', { name: 'Filters (3)' })).toBeInTheDocument();

    const user = userEvent.setup();
    await user.click(within(chips).getByRole('button', { name: 'Remove filter Type: Invoice' }));
    await waitFor(() => expect(router.state.location.search).toBe('?range=last_30_days&q=late'));
    await waitFor(() => expect(listRequests(requests).at(-1)?.searchParams.get('module')).toBeNull());
    expect(listRequests(requests).at(-1)?.searchParams.get('q')).toBe('late');
    expect(screen.getByRole('combobox', { name: 'Type' })).toHaveValue('');
    expect(screen.getByRole('button', { name: 'Filters (2)' })).toBeInTheDocument();

    await user.click(within(chips).getByRole('button', { name: 'Clear all' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
    expect(screen.queryByRole('group', { name: 'Applied filters' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Filters' })).toBeInTheDocument();
  });

  it('keeps the chips when nothing matches, so a filter can be taken away', async () => {
    stubApi({
      ...facets,
      '/api/v1/events': (url) =>
        makePage(url.searchParams.has('verb') ? [] : [makeEvent(1)], url.searchParams.has('verb') ? 0 : 1),
    });
    const { router } = renderWithProviders(<ActivityPage />, { url: '/?module=invoice&verb=sent' });
    await screen.findByText('No activity matches these filters');
    await userEvent.click(screen.getByRole('button', { name: 'Remove filter Event: Sent' }));
    await waitFor(() => expect(router.state.location.search).toBe('?module=invoice'));
    expect(await screen.findByRole('link', { name: 'BOK-1001' })).toBeInTheDocument();
  });
});

describe('ActivityPage list behaviour', () => {
  it('opens the details of a row clicked anywhere but on its controls', async () => {
    stubApi({
      ...facets,
      '/api/v1/events': () => makePage([makeEvent(1), makeEvent(2)], 2),
      '/api/v1/events/2': () => makeEvent(2),
    });
    const { router } = renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const user = userEvent.setup();

    await user.click(screen.getByRole('checkbox', { name: 'Select activity 2' }));
    await user.click(screen.getByText('Bob Manager updated booking BOK-1001'.replace('1001', '1002')).closest('td')!);
    await waitFor(() => expect(router.state.location.search).toBe('?event=2'));
    expect(screen.getByRole('button', { name: 'Details of activity 2' })).toHaveFocus();
    expect(screen.getByRole('checkbox', { name: 'Select activity 2' })).toBeChecked();
  });

  it('dims the rows and shows a progress bar while the next page loads, and starts it at the top', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    stubApi({
      ...facets,
      '/api/v1/events': async (url) => {
        if (url.searchParams.get('page') === '2') {
          await held;
          return makePage([makeEvent(26)], 60, 2);
        }
        return makePage([makeEvent(1)], 60);
      },
    });
    const scrollIntoView = vi.fn();
    Element.prototype.scrollIntoView = scrollIntoView;
    renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const results = screen.getByRole('region', { name: 'Results' });
    // The list's top is above the screen, as after scrolling down to Next.
    vi.spyOn(results, 'getBoundingClientRect').mockReturnValue({ top: -900 } as DOMRect);

    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    expect(scrollIntoView).toHaveBeenCalledWith({ block: 'start' });
    expect(scrollIntoView.mock.contexts[0]).toBe(results);
    await waitFor(() => expect(screen.getByRole('progressbar', { name: 'Loading activity' })).toBeInTheDocument());
    expect(screen.getByTestId('activity-table')).toHaveAttribute('data-stale', 'true');
    expect(screen.getByTestId('activity-table')).toHaveAttribute('aria-busy', 'true');
    expect(screen.getByRole('link', { name: 'BOK-1001' })).toBeInTheDocument();

    release();
    expect(await screen.findByRole('link', { name: 'BOK-1026' })).toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.getByTestId('activity-table')).not.toHaveAttribute('data-stale');
  });

  it('shows cards instead of the table on a narrow screen', async () => {
    matchMedia(CARDS_QUERY);
    stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1), makeEvent(2)], 2) });
    const { router } = renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    expect(screen.queryByTestId('activity-table')).toBeNull();
    expect(within(screen.getByTestId('activity-cards')).getAllByRole('listitem')).toHaveLength(2);
    await userEvent.click(screen.getByRole('button', { name: /^Details of activity 1:/ }));
    await waitFor(() => expect(router.state.location.search).toBe('?event=1'));
  });
});

describe('ActivityPage IP filter', () => {
  it('refuses an IP filter as it is typed, under the field, and sends nothing', async () => {
    const requests = stubApi({ ...facets, '/api/v1/events': () => makePage([makeEvent(1)], 1) });
    renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const user = userEvent.setup();
    const ip = screen.getByRole('textbox', { name: 'IP address' });
    await user.type(ip, '86.5x');
    expect(ip).toHaveAttribute('aria-invalid', 'true');
    expect(ip).toHaveAccessibleDescription(/^Enter an IP address/);
    expect(screen.getByRole('button', { name: 'Filter' })).toBeDisabled();
    await user.type(ip, '{Enter}');
    const search = screen.getByRole('searchbox', { name: 'Search' });
    await user.type(search, 'late');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(listRequests(requests)).toHaveLength(1);
    expect(screen.queryByRole('alert')).toBeNull();
    await user.clear(search);

    await user.clear(ip);
    await user.type(ip, '86.52');
    expect(ip).not.toHaveAttribute('aria-invalid');
    await user.click(screen.getByRole('button', { name: 'Filter' }));
    await waitFor(() => expect(listRequests(requests).at(-1)?.searchParams.get('ip')).toBe('86.52'));
  });

  it('shows the server’s refusal of the IP filter under the field and keeps the rows', async () => {
    stubApi({
      ...facets,
      '/api/v1/events': (url) =>
        url.searchParams.has('ip')
          ? problem(400, 'Bad request', 'query parameter `ip`: must be an IPv4 or IPv6 address', [
              { pointer: 'ip', message: 'must be an IPv4 or IPv6 address' },
            ])
          : makePage([makeEvent(1)], 1),
    });
    renderWithProviders(<ActivityPage />);
    await screen.findByRole('link', { name: 'BOK-1001' });
    const user = userEvent.setup();
    const ip = screen.getByRole('textbox', { name: 'IP address' });
    await user.type(ip, '10.0.0.0/8');
    await user.click(screen.getByRole('button', { name: 'Filter' }));

    await waitFor(() => expect(ip).toHaveAccessibleDescription('Must be an IPv4 or IPv6 address.'));
    expect(screen.getByRole('link', { name: 'BOK-1001' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByText('The activity log could not be loaded')).toBeNull();

    // The reason belongs to the value sent: another value clears it.
    await user.type(ip, '{Backspace}');
    expect(ip).toHaveValue('10.0.0.0/');
    expect(ip).toHaveAccessibleDescription('An IPv4 range ends in /0 to /32.');
    await user.type(ip, '16');
    expect(ip).not.toHaveAttribute('aria-invalid');
  });

  it('says why the list is empty when a linked IP filter is refused', async () => {
    stubApi({
      ...facets,
      '/api/v1/events': () =>
        problem(400, 'Bad request', 'query parameter `ip`: must be an IPv4 or IPv6 address', [
          { pointer: 'ip', message: 'must be an IPv4 or IPv6 address' },
        ]),
    });
    renderWithProviders(<ActivityPage />, { url: '/?ip=86.52' });
    expect(await screen.findByText('The IP address filter was refused')).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'IP address' })).toHaveAccessibleDescription('Must be an IPv4 or IPv6 address.');
    expect(screen.getByRole('button', { name: 'Filters (1)' })).toHaveAttribute('aria-expanded', 'true');
  });

  it('still reports other failures in place of the list', async () => {
    stubApi({
      ...facets,
      '/api/v1/events': () =>
        problem(400, 'Bad request', 'query parameter `q`: too long', [{ pointer: 'q', message: 'too long' }]),
    });
    renderWithProviders(<ActivityPage />, { url: '/?q=x' });
    expect(await screen.findByText('The activity log could not be loaded')).toBeInTheDocument();
  });
});
