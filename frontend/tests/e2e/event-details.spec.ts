import { expect, test } from './support/fixtures';

test.describe('Event details and record history', () => {
  test('the details of an updated event show previous and new values side by side', async ({ page, activityPage, api }) => {
    const updated = (await api.events({ verb: 'updated', per_page: 100 })).items.find(
      (e) => e.changes.length > 0 && e.changes.every((c) => 'old' in c && 'new' in c) && e.entity,
    )!;
    expect(updated, 'an updated event with changes in the demo data').toBeTruthy();
    await activityPage.goto(`verb=updated&per_page=100`);
    const modal = await activityPage.openDetails(updated.id);
    await expect(page).toHaveURL(new RegExp(`event=${updated.id}`));

    expect(await modal.diffHeaders()).toEqual(['Field', 'Previous value', 'New value']);
    const rows = await modal.changeRows();
    expect(rows.map((r) => r[0])).toEqual(updated.changes.map((c) => c.field));
    const show = (v: unknown) =>
      v === null || v === '' ? 'empty' : typeof v === 'object' ? JSON.stringify(v, null, 2) : String(v);
    for (const [i, change] of updated.changes.entries()) {
      expect(rows[i]).toEqual([change.field, show(change.old), show(change.new)]);
    }
    await expect(modal.root.getByTestId('detail-actor')).toContainText(updated.actor.name);

    await modal.root.getByRole('button', { name: 'Verify the log' }).click();
    await expect(modal.root.getByText(/^Verified: the tree recomputed from the stored entries/)).toBeVisible();

    await modal.close();
    await expect(page).not.toHaveURL(/event=/);
    await expect(activityPage.row(updated.id).getByRole('button', { name: /Details/ })).toBeFocused();
  });

  test('the modal is keyboard operable: focus stays inside and Esc closes it', async ({ page, activityPage, api }) => {
    const [id] = await api.eventIds();
    await activityPage.goto();
    await activityPage
      .row(id)
      .getByRole('button', { name: /Details/ })
      .focus();
    await page.keyboard.press('Enter');
    await activityPage.modal.expectOpen(id);
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press('Tab');
      expect(await activityPage.modal.root.evaluate((dialog) => dialog.contains(document.activeElement))).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect(activityPage.modal.root).toBeHidden();
  });

  test('a created event shows its initial values and a deleted one its snapshot', async ({ activityPage, api }) => {
    const created = (await api.events({ verb: 'created', per_page: 10 })).items.find((e) => e.changes.length > 0)!;
    await activityPage.goto(`event=${created.id}`);
    await activityPage.modal.expectOpen(created.id);
    expect(await activityPage.modal.diffHeaders()).toEqual(['Field', 'Initial value']);
    await activityPage.modal.close();

    const deleted = (await api.events({ verb: 'deleted', per_page: 10 })).items.find((e) => e.changes.length > 0);
    test.skip(!deleted, 'no deleted event with a snapshot in the demo data');
    await activityPage.goto(`event=${deleted!.id}`);
    await activityPage.modal.expectOpen(deleted!.id);
    expect(await activityPage.modal.diffHeaders()).toEqual(['Field', 'Value at deletion']);
  });

  test('a record link leads to its history, newest first, matching the API', async ({ page, activityPage, historyPage, api }) => {
    const event = (await api.events({ module: 'booking', verb: 'updated' })).items.find((e) => e.entity)!;
    const entity = event.entity!;
    await activityPage.goto('module=booking&verb=updated');
    await activityPage
      .row(event.id)
      .getByRole('link', { name: entity.label ?? undefined })
      .click();
    await expect(page).toHaveURL(`/records/${entity.type}/${entity.id}`);
    await historyPage.waitForLoaded();
    await expect(historyPage.heading()).toContainText(entity.label ?? entity.id);

    const history = await api.history(entity.type, entity.id);
    await expect.poll(() => historyPage.entryIds()).toEqual(history.items.map((e) => e.id));
    expect(history.items.map((e) => e.id)).toContain(event.id);
    const times = history.items.map((e) => Date.parse(e.occurred_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    await historyPage.expand(event.id);
    await expect(historyPage.entry(event.id).getByRole('columnheader', { name: 'Previous value' })).toBeVisible();

    await page.getByRole('link', { name: '← Back to the activity log' }).click();
    await expect(page).toHaveURL(/module=booking&verb=updated/);
  });

  test("a customer's history includes its bookings' and invoices' events", async ({ historyPage, api }) => {
    const withCustomer = (await api.events({ module: 'booking', per_page: 100 })).items.find((e) =>
      e.related.some((r) => r.type === 'customer'),
    )!;
    const customer = withCustomer.related.find((r) => r.type === 'customer')!;
    await historyPage.goto('customer', customer.id);
    const history = await api.history('customer', customer.id);
    await expect.poll(() => historyPage.entryIds()).toEqual(history.items.map((e) => e.id));
    const viaRelated = history.items.find((e) => e.entity?.type !== 'customer');
    expect(viaRelated, 'an event of a related record').toBeTruthy();
    await expect(historyPage.entry(viaRelated!.id).getByText('On related record')).toBeVisible();
  });
});
