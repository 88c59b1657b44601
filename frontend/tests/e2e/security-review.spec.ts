import { expect, test } from './support/fixtures';

const isEventList = (url: string) => new URL(url).pathname === '/api/v1/events';

test.describe('Security review', () => {
  test('shows the flagged events by kind, and a group opens the list filtered by its flag', async ({
    page,
    reviewPage,
    activityPage,
    api,
  }) => {
    await page.goto('/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security review' }).click();
    await reviewPage.waitForSettled();
    await expect(reviewPage.period).toHaveValue('last_7_days');

    await reviewPage.selectPeriod('Last 30 days');
    await expect(page).toHaveURL(/\/review\?range=last_30_days$/);
    const summary = await api.flagSummary({ range: 'last_30_days' });
    expect(summary.total, 'flagged events in the demo data').toBeGreaterThan(0);
    await expect(reviewPage.total()).toHaveText(
      `${summary.total.toLocaleString('en-GB')} flagged event${summary.total === 1 ? '' : 's'}`,
    );
    for (const { kind, count } of summary.kinds) {
      await expect(reviewPage.count(kind)).toHaveText(count.toLocaleString('en-GB'));
    }

    const [busiest] = [...summary.kinds].sort((a, b) => b.count - a.count);
    await Promise.all([page.waitForResponse((r) => isEventList(r.url())), reviewPage.open(busiest.kind)]);
    await expect(page).toHaveURL(new RegExp(`/\\?range=last_30_days&flag=${busiest.kind}$`));
    await activityPage.waitForSettled();
    await expect(activityPage.field('Flagged')).toHaveValue(busiest.kind);
    await expect(activityPage.field('Date range')).toHaveValue('last_30_days');

    const expected = await api.events({ range: 'last_30_days', flag: busiest.kind });
    expect(expected.total, 'the list counts what the review counted').toBe(busiest.count);
    await expect.poll(() => activityPage.rowIds()).toEqual(expected.items.map((e) => e.id));
    const rows = await activityPage.rowFlagKinds();
    expect(rows.length).toBeGreaterThan(0);
    for (const kinds of rows) expect(kinds).toContain(busiest.kind);

    // The badge gives the server's reason on hover.
    const first = expected.items[0];
    const reason = first.flags.find((f) => f.kind === busiest.kind)!.reason;
    expect(await activityPage.row(first.id).getByTestId('flag-badge').getAttribute('title')).toContain(reason);
  });

  test('the details of a flagged event list its flags with their reasons', async ({ activityPage, api }) => {
    const [flagged] = (await api.events({ flag: 'any', per_page: 10 })).items;
    expect(flagged, 'a flagged event in the demo data').toBeTruthy();
    await activityPage.goto(`flag=any&event=${flagged.id}`);
    await activityPage.modal.expectOpen(flagged.id);
    const section = activityPage.modal.root.getByRole('region', { name: 'Flags' });
    await expect(section.getByRole('listitem')).toHaveCount(flagged.flags.length);
    for (const flag of flagged.flags) {
      await expect(section.locator(`li[data-flag-kind="${flag.kind}"]`)).toContainText(flag.reason);
    }
  });

  test('another period asks again and says when nothing was flagged', async ({ page, reviewPage, api }) => {
    await reviewPage.goto();
    await reviewPage.selectPeriod('Today');
    await expect(page).toHaveURL(/\/review\?range=today$/);
    const today = await api.flagSummary({ range: 'today' });
    if (today.total === 0) {
      await expect(page.getByText('No flagged events in this period')).toBeVisible();
    } else {
      await expect(reviewPage.total()).toContainText(today.total.toLocaleString('en-GB'));
    }
    await page.reload();
    await reviewPage.waitForSettled();
    await expect(reviewPage.period).toHaveValue('today');
  });
});
