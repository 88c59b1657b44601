import { expect, test } from './support/fixtures';

test.describe('Activity list behaviour on a desktop', () => {
  test('a click on a row opens its details; the checkbox and the record link keep their own meaning', async ({
    page,
    activityPage,
    api,
  }) => {
    const [first, second] = (await api.events()).items.filter((e) => e.entity?.label && e.description);
    await activityPage.goto();

    await activityPage.row(first.id).getByText(first.description!).click();
    await activityPage.modal.expectOpen(first.id);
    await activityPage.modal.close();
    // The focus comes back to the row's Details button.
    await expect(activityPage.detailsButton(first.id)).toBeFocused();

    await activityPage.select(second.id);
    await expect(activityPage.row(second.id).getByRole('checkbox')).toBeChecked();
    await expect(activityPage.modal.root).toBeHidden();
    await expect(page).not.toHaveURL(/event=/);

    await activityPage.row(second.id).getByRole('link', { name: second.entity!.label! }).click();
    await expect(page).toHaveURL(new RegExp(`/records/${second.entity!.type}/${second.entity!.id}$`));
    await expect(activityPage.modal.root).toBeHidden();
  });

  test('Enter on a row’s Details button opens its details', async ({ page, activityPage, api }) => {
    const [id] = await api.eventIds();
    await activityPage.goto();
    await activityPage.row(id).getByRole('checkbox').focus();
    // From the row's checkbox, Tab reaches its record link(s) and then its Details button.
    for (let i = 0; i < 4 && !(await activityPage.detailsButton(id).evaluate((b) => b === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    await expect(activityPage.detailsButton(id)).toBeFocused();
    await page.keyboard.press('Enter');
    await activityPage.modal.expectOpen(id);
  });

  test('user names stay on one line, with the full name on hover', async ({ activityPage }) => {
    await activityPage.goto();
    const names = activityPage.table.locator('.cell-user__name');
    await expect(names.first()).toBeVisible();
    for (const name of await names.all()) {
      await expect(name).toHaveAttribute('title', (await name.innerText()).trim());
      await expect(name).toHaveCSS('white-space', 'nowrap');
      await expect(name).toHaveCSS('text-overflow', 'ellipsis');
    }
  });

  test('shows the applied filters as chips; Clear all removes them all', async ({ page, activityPage, api }) => {
    await activityPage.goto();
    expect(await activityPage.chipTexts()).toEqual([]);

    await activityPage.selectDateRange('Last 30 days');
    await activityPage.selectType('Invoice');
    await activityPage.apply();
    // The keyword applies itself once typing pauses.
    await activityPage.expectReload(() => activityPage.searchBox().fill('INV'));
    expect(await activityPage.chipTexts()).toEqual(['Last 30 days', 'Type: Invoice', 'Search: “INV”']);

    const request = await activityPage.removeChip('Last 30 days');
    expect(request.searchParams.get('range')).toBeNull();
    expect(request.searchParams.get('module')).toBe('invoice');
    await expect(activityPage.field('Date range')).toHaveValue('');
    // The focus moves on to the next chip's button.
    await expect(activityPage.chips().getByRole('button', { name: 'Remove filter Type: Invoice' })).toBeFocused();
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ module: 'invoice', q: 'INV' }));

    // The unfiltered list may come from the cache, so no request is awaited.
    await activityPage.chips().getByRole('button', { name: 'Clear all' }).click();
    await activityPage.waitForSettled();
    await expect(activityPage.chips()).toBeHidden();
    await expect(page).toHaveURL(/\/$/);
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds());
  });

  test('names the chosen user and whose activity in the chips', async ({ page, activityPage, api }) => {
    const actor = (await api.actors()).items.find((a) => a.name.length >= 3)!;
    await activityPage.goto(`actor_id=${encodeURIComponent(actor.id)}`);
    expect(await activityPage.chipTexts()).toEqual([`User: ${actor.name}`]);

    await activityPage.goto('flag=any');
    await activityPage.expectReload(() => page.getByRole('radio', { name: 'My activity' }).check());
    expect(await activityPage.chipTexts()).toEqual(['Flagged: Any flag', 'Whose activity: Only mine']);
    await activityPage.chips().getByRole('button', { name: 'Remove filter Whose activity: Only mine' }).click();
    await activityPage.waitForSettled();
    await expect(page.getByRole('radio', { name: 'All activity' })).toBeChecked();
    expect(await activityPage.chipTexts()).toEqual(['Flagged: Any flag']);
  });

  test('while the next page loads the old rows are dimmed under a progress bar', async ({ page, activityPage, api }) => {
    await activityPage.goto();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(
      (url) => url.pathname === '/api/v1/events' && url.searchParams.get('page') === '2',
      async (route) => {
        await held;
        await route.continue();
      },
    );
    const firstPage = await activityPage.rowIds();
    await activityPage.pagination().getByRole('button', { name: 'Next page' }).click();

    await expect(activityPage.table).toHaveAttribute('aria-busy', 'true');
    await expect(activityPage.table).toHaveAttribute('data-stale', 'true');
    await expect(page.getByRole('progressbar', { name: 'Loading activity' })).toBeVisible();
    await expect(activityPage.table.locator('tbody')).toHaveCSS('opacity', '0.5');
    expect(await activityPage.rowIds()).toEqual(firstPage);

    release();
    await activityPage.waitForSettled();
    await expect(activityPage.table).not.toHaveAttribute('data-stale');
    await expect(page.getByRole('progressbar')).toHaveCount(0);
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ page: 2 }));
  });

  test('Next at the bottom of a long page brings the top of the list into view', async ({ page, activityPage }) => {
    await activityPage.goto('per_page=100');
    const next = activityPage.pagination().getByRole('button', { name: 'Next page' });
    await next.scrollIntoViewIfNeeded();
    const results = page.getByRole('region', { name: 'Results' });
    expect((await results.boundingBox())!.y).toBeLessThan(0);

    await activityPage.expectReload(() => next.click());
    await expect(page).toHaveURL(/page=2/);
    const top = (await results.boundingBox())!.y;
    expect(top).toBeGreaterThanOrEqual(-1);
    expect(top).toBeLessThan(50);
  });
});
