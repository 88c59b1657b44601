import { expect, test } from './support/fixtures';

test.describe('Activity chart', () => {
  test('choosing a day narrows the table to that day, matching the API', async ({ page, activityPage, api }) => {
    await activityPage.goto();
    const chart = page.getByTestId('activity-chart');
    const bars = chart.getByRole('button', { name: /: [1-9][\d,]* activit(y|ies)\. Show this day/ });
    await expect(bars.first()).toBeVisible();
    const label = (await bars.first().getAttribute('aria-label')) ?? '';
    const day = label.split(':')[0];
    expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const request = await activityPage.expectReload(() => bars.first().click());
    expect(request.searchParams.get('from')).toBe(day);
    expect(request.searchParams.get('to')).toBe(day);
    await expect(page).toHaveURL(new RegExp(`from=${day}`));
    await expect
      .poll(() => activityPage.rowIds())
      .toEqual(await api.eventIds({ from: day, to: day, tz: request.searchParams.get('tz') ?? undefined }));
  });
});
