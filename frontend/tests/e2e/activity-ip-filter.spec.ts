import type { Page, Request } from '@playwright/test';
import { expect, test } from './support/fixtures';

/** Collects the list requests the page sends from now on. */
function listRequests(page: Page): URL[] {
  const seen: URL[] = [];
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/v1/events' && request.method() === 'GET') seen.push(url);
  });
  return seen;
}

test.describe('IP address filter', () => {
  test('a value that is not an address, a start of one or a range is refused as it is typed, and never sent', async ({
    page,
    activityPage,
  }) => {
    await activityPage.goto();
    const sent = listRequests(page);
    const ip = activityPage.field('IP address');

    await ip.fill('86.5x');
    await expect(activityPage.filters.getByText(/^Enter an IP address/)).toBeVisible();
    await expect(ip).toHaveAttribute('aria-invalid', 'true');
    await expect(ip).toHaveAccessibleDescription(/^Enter an IP address/);
    await expect(activityPage.filters.getByRole('button', { name: 'Filter' })).toBeDisabled();
    await ip.press('Enter');
    // Nor does the keyword, which otherwise applies itself, go out while the address is wrong.
    await activityPage.searchBox().fill('booking');
    await page.waitForTimeout(800);
    expect(sent).toEqual([]);
    await expect(page).not.toHaveURL(/ip=/);
    await expect(activityPage.table).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);

    await ip.fill('10.0.0.0/33');
    await expect(activityPage.filters.getByText('An IPv4 range ends in /0 to /32.')).toBeVisible();

    // Every accepted form clears the message.
    for (const value of ['86.52', '86.52.', '203.0.113.7', '10.0.0.0/8', '2001:db8::1', '2001:db8::/32']) {
      await ip.fill(value);
      await expect(ip).not.toHaveAttribute('aria-invalid');
      await expect(activityPage.filters.getByRole('button', { name: 'Filter' })).toBeEnabled();
    }
  });

  test('an address shows only its activity', async ({ activityPage, api }) => {
    const event = (await api.events({ per_page: 100 })).items.find((e) => e.ip && e.ip.includes('.'))!;
    await activityPage.goto();
    await activityPage.field('IP address').fill(event.ip!);
    const request = await activityPage.apply();
    expect(request.searchParams.get('ip')).toBe(event.ip);
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ ip: event.ip! }));
    expect(await activityPage.chipTexts()).toEqual([`IP address: ${event.ip}`]);
  });

  test.describe('when the server refuses the IP filter', () => {
    test.use({ allowedConsoleErrors: [/status of 400/] });

    test('its reason shows under the field and the table stays', async ({ page, activityPage }) => {
      await activityPage.goto();
      const rows = await activityPage.rowIds();
      await page.route(
        (url) => url.pathname === '/api/v1/events' && url.searchParams.has('ip'),
        (route) =>
          route.fulfill({
            status: 400,
            contentType: 'application/problem+json',
            body: JSON.stringify({
              type: 'urn:activity-log:problem:bad-request',
              title: 'Bad request',
              status: 400,
              detail: 'query parameter `ip`: must be an IPv4 or IPv6 address',
              errors: [{ pointer: 'ip', message: 'must be an IPv4 or IPv6 address' }],
            }),
          }),
      );
      const ip = activityPage.field('IP address');
      await ip.fill('86.52');
      await activityPage.apply();

      await expect(activityPage.filters.getByText('Must be an IPv4 or IPv6 address.')).toBeVisible();
      await expect(ip).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByText('The activity log could not be loaded')).toHaveCount(0);
      await expect(page.getByRole('alert')).toHaveCount(0);
      await expect(activityPage.table).toBeVisible();
      expect(await activityPage.rowIds()).toEqual(rows);

      // The reason belongs to the value sent: changing it clears the message.
      await ip.fill('86.53');
      await expect(ip).not.toHaveAttribute('aria-invalid');
    });

    test('on a phone the filters open to show it', async ({ page, activityPage }) => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.route(
        (url) => url.pathname === '/api/v1/events' && url.searchParams.has('ip'),
        (route) =>
          route.fulfill({
            status: 400,
            contentType: 'application/problem+json',
            body: JSON.stringify({
              type: 'urn:activity-log:problem:bad-request',
              title: 'Bad request',
              status: 400,
              errors: [{ pointer: 'ip', message: 'must be an IPv4 or IPv6 address' }],
            }),
          }),
      );
      await page.goto('/?ip=86.52');
      await expect(activityPage.filters.getByText('Must be an IPv4 or IPv6 address.')).toBeVisible();
      await expect(page.getByRole('button', { name: /^Filters/ })).toHaveAttribute('aria-expanded', 'true');
      await expect(page.getByText('The IP address filter was refused')).toBeVisible();
    });
  });

  // The server matches address starts and networks the same way the field checks them.
  test.describe('address starts and ranges', () => {
    test('the start of an address ("86.52") shows the activity from those addresses', async ({ activityPage, api }) => {
      const event = (await api.events({ per_page: 100 })).items.find((e) => e.ip && /^\d+\.\d+\.\d+\.\d+$/.test(e.ip))!;
      const start = event.ip!.split('.').slice(0, 2).join('.');
      await activityPage.goto();
      await activityPage.field('IP address').fill(start);
      const request = await activityPage.apply();
      expect(request.searchParams.get('ip')).toBe(start);
      const expected = await api.eventIds({ ip: start, per_page: 100 });
      expect(expected).toContain(event.id);
      await activityPage.goto(`ip=${start}&per_page=100`);
      await expect.poll(() => activityPage.rowIds()).toEqual(expected);
      for (const shown of await activityPage.columnTexts('IP Address')) expect(shown.startsWith(`${start}.`)).toBe(true);

      // The same with a trailing dot, and as a range.
      expect(await api.eventIds({ ip: `${start}.`, per_page: 100 })).toEqual(expected);
      await activityPage.field('IP address').fill(`${start}.0.0/16`);
      await activityPage.apply();
      await expect.poll(() => activityPage.rowIds()).toEqual(expected);
    });

    test('an IPv6 range shows the activity from it', async ({ activityPage, api }) => {
      const event = (await api.events({ per_page: 100 })).items.find((e) => e.ip?.includes(':'));
      test.skip(!event, 'no IPv6 address in the demo data');
      const range = `${event!.ip!.split(':').slice(0, 2).join(':')}::/32`;
      await activityPage.goto();
      await activityPage.field('IP address').fill(range);
      await activityPage.apply();
      const expected = await api.eventIds({ ip: range });
      expect(expected).toContain(event!.id);
      await expect.poll(() => activityPage.rowIds()).toEqual(expected);
    });
  });
});
