import { expect, test } from './support/fixtures';

test.describe('Activity chart', () => {
  test('covers what the table shows: "any time" is the data\'s own span, not the last 30 days', async ({
    page,
    activityPage,
    api,
  }) => {
    // Other tests add events to the same tenant meanwhile: the chart's count must lie between the
    // table's totals read just before and just after it (the last 30 days alone hold far fewer).
    const shown = async () => {
      const summary = (await chart.getByTestId('chart-summary').innerText()).replace(/[\s,.]/g, '');
      return Number(/^(\d+)activit/.exec(summary)?.[1] ?? NaN);
    };
    const total = async (query: Record<string, string> = {}) => {
      const listed = (await api.events(query)).total;
      expect(listed).not.toBeNull();
      return listed ?? 0;
    };
    const chart = page.getByTestId('activity-chart');
    const before = await total();
    await activityPage.goto();
    await expect(chart.getByRole('heading', { name: /^Activities per (day|week)$/ })).toBeVisible();
    const all = await shown();
    const after = await total();
    expect(all).toBeGreaterThanOrEqual(before);
    expect(all).toBeLessThanOrEqual(after);
    // A module filter: the chart follows the table.
    const invoicesBefore = await total({ module: 'invoice' });
    await activityPage.goto('module=invoice');
    await expect.poll(shown).toBeLessThan(all);
    const invoices = await shown();
    expect(invoices).toBeGreaterThanOrEqual(invoicesBefore);
    expect(invoices).toBeLessThanOrEqual(await total({ module: 'invoice' }));
  });

  test('choosing a bar by keyboard narrows the table to its dates, matching the API', async ({ page, activityPage, api }) => {
    await activityPage.goto('range=last_30_days');
    const chart = page.getByTestId('activity-chart');
    await expect(chart.getByRole('heading', { name: 'Activities per day' })).toBeVisible();
    // One tab stop: today's bar (the last) takes focus, and it is partial.
    const bars = chart.getByRole('toolbar').getByRole('button');
    await expect(bars).toHaveCount(30);
    await expect(chart.locator('button[tabindex="0"]')).toHaveCount(1);
    await bars.last().focus();
    await expect(bars.last()).toHaveAttribute('data-partial', '');
    await expect(bars.last()).toHaveAccessibleName(/\(partial day\)/);
    // Walk back to the first bar with activity and choose it with Enter.
    let index = 29;
    while (index > 0 && /: 0 activities/.test((await bars.nth(index).getAttribute('aria-label')) ?? '')) {
      await page.keyboard.press('ArrowLeft');
      index -= 1;
    }
    await expect(bars.nth(index)).toBeFocused();
    const request = await activityPage.expectReload(() => page.keyboard.press('Enter'));
    const day = request.searchParams.get('from');
    expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(request.searchParams.get('to')).toBe(day);
    await expect(page).toHaveURL(new RegExp(`from=${day}`));
    await expect
      .poll(() => activityPage.rowIds())
      .toEqual(await api.eventIds({ from: day!, to: day!, tz: request.searchParams.get('tz') ?? undefined }));
    // That day alone is charted by hour.
    await expect(chart.getByRole('heading', { name: 'Activities per hour' })).toBeVisible();
    // The screen-reader table holds the same counts.
    const hours = await chart.getByRole('table', { name: 'Activities per hour' }).getByRole('row').count();
    expect(hours - 1, 'a row per hour of the day (23 to 25 on a clock change)').toBeGreaterThanOrEqual(23);
    expect(hours - 1).toBeLessThanOrEqual(25);
  });
});
