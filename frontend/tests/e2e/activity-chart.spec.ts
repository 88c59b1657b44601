import { BUSINESS_ZONE } from './support/constants';
import { expect, test } from './support/fixtures';

/** YYYY-MM-DD of `daysAgo` days before today in the business zone. */
function businessDate(daysAgo: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: BUSINESS_ZONE }).format(new Date(Date.now() - daysAgo * 86_400_000));
}

test.describe('Activity chart', () => {
  test('covers what the table shows: "any time" is the data\'s own span, not the last 30 days', async ({
    page,
    activityPage,
    api,
  }) => {
    // Up to yesterday: other tests add events today, and a chart answer slow to compute is kept
    // for up to a minute, so only a range that is closed stays the same while this test runs.
    const yesterday = businessDate(1);
    const total = async (query: Record<string, string> = {}) => {
      const listed = (await api.events({ to: yesterday, ...query })).total;
      expect(listed).not.toBeNull();
      return listed ?? 0;
    };
    const shown = async () => {
      const summary = (await chart.getByTestId('chart-summary').innerText()).replace(/[\s,.]/g, '');
      return Number(/^(\d+)activit/.exec(summary)?.[1] ?? NaN);
    };
    const chart = page.getByTestId('activity-chart');
    await activityPage.goto(`to=${yesterday}`);
    await expect(chart.getByRole('heading', { name: /^Activities per (day|week)$/ })).toBeVisible();
    const all = await total();
    expect(await shown()).toBe(all);
    // The open start is the data's own: more than the last 30 days hold.
    expect(all).toBeGreaterThan(await total({ from: businessDate(30) }));
    // A module filter: the chart follows the table.
    await activityPage.goto(`to=${yesterday}&module=invoice`);
    const invoices = await total({ module: 'invoice' });
    await expect.poll(shown).toBe(invoices);
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
