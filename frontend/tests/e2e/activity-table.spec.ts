import { expect, test } from './support/fixtures';

test.describe('Activity log table', () => {
  test.beforeEach(async ({ activityPage }) => {
    await activityPage.goto();
  });

  for (const [column, sort, firstOrder] of [
    ['User', 'actor', 'asc'],
    ['Type', 'module', 'asc'],
    ['Event', 'verb', 'asc'],
    ['IP Address', 'ip', 'asc'],
  ] as const) {
    test(`sorts by ${column} both ways`, async ({ activityPage, api }) => {
      const request = await activityPage.sortBy(column);
      expect(request.searchParams.get('sort')).toBe(sort);
      await expect(activityPage.header(column)).toHaveAttribute('aria-sort', 'ascending');
      await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ sort, order: firstOrder }));

      await activityPage.sortBy(column);
      await expect(activityPage.header(column)).toHaveAttribute('aria-sort', 'descending');
      await expect(activityPage.header('Date/Time')).toHaveAttribute('aria-sort', 'none');
      await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ sort, order: 'desc' }));
    });
  }

  test('sorts oldest first by Date/Time', async ({ activityPage, api }) => {
    await activityPage.sortBy('Date/Time');
    await expect(activityPage.header('Date/Time')).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ order: 'asc' }));
  });

  test('pages through the results', async ({ page, activityPage, api }) => {
    const total = (await api.events()).total!;
    await expect(activityPage.summary()).toHaveText(`Showing 1–25 of ${total.toLocaleString('en-GB')} activities`);
    await activityPage.nextPage();
    await expect(page).toHaveURL(/[?&]page=2/);
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ page: 2 }));
    await activityPage.goToPage(3);
    await expect(activityPage.pagination().getByRole('button', { name: 'Page 3', exact: true })).toHaveAttribute(
      'aria-current',
      'page',
    );
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ page: 3 }));
    await expect(activityPage.summary()).toHaveText(`Showing 51–75 of ${total.toLocaleString('en-GB')} activities`);
  });

  for (const size of [10, 50, 100] as const) {
    test(`shows ${size} rows per page`, async ({ page, activityPage, api }) => {
      await activityPage.nextPage();
      await activityPage.setPageSize(size);
      await expect(page).toHaveURL(new RegExp(`per_page=${size}`));
      await expect(page).not.toHaveURL(/page=2/);
      await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ per_page: size }));
    });
  }

  test('switches dates between business and local time', async ({ page, activityPage, api }) => {
    const [first] = (await api.events()).items;
    const zone = page.getByTestId('active-time-zone');
    await expect(zone).toHaveText('Europe/London');
    const cell = activityPage.row(first.id).locator('time');
    const london = await cell.innerText();

    await page.getByRole('radio', { name: 'My local time' }).check();
    await expect(zone).toHaveText('America/New York');
    await expect(cell).not.toHaveText(london);
    const expected = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'America/New_York',
      year: 'numeric',
      month: 'short',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(first.occurred_at));
    await expect(cell).toHaveText(expected);
    await page.getByRole('radio', { name: 'Business time' }).check();
  });

  test('live mode shows new matching activity at the top', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=quote');
    await page.getByRole('button', { name: 'Live' }).click();
    await expect(page.getByRole('button', { name: 'Live' })).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByTestId('live-status')).toHaveText('Watching for new activity');

    const ignored = await api.ingest({ action: 'invoice.sent', entity: { type: 'invoice', id: '9001', label: 'INV-9001' } });
    const id = await api.ingest({ action: 'quote.sent', entity: { type: 'quote', id: '9001', label: 'QUO-9001' } });
    await expect(activityPage.row(id)).toHaveAttribute('data-new', 'true');
    expect((await activityPage.rowIds())[0]).toBe(id);
    expect(await activityPage.rowIds()).not.toContain(ignored);
    await expect(page.getByTestId('live-status')).toContainText('1 new');
  });
});
