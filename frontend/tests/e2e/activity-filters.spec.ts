import { BUSINESS_ZONE } from './support/constants';
import { expect, test } from './support/fixtures';

/** YYYY-MM-DD of `daysAgo` days before today in the business zone. */
function businessDate(daysAgo: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: BUSINESS_ZONE }).format(new Date(Date.now() - daysAgo * 86_400_000));
}

test.describe('Activity log filters', () => {
  test.beforeEach(async ({ activityPage }) => {
    await activityPage.goto();
  });

  test('loads newest first, matching the API', async ({ activityPage, api }) => {
    const ids = await api.eventIds();
    expect(ids.length).toBe(25);
    await expect.poll(() => activityPage.rowIds()).toEqual(ids);
    await expect(activityPage.header('Date/Time')).toHaveAttribute('aria-sort', 'descending');
  });

  for (const [label, range] of [
    ['Today', 'today'],
    ['Yesterday', 'yesterday'],
    ['Last 7 days', 'last_7_days'],
    ['This month', 'this_month'],
    ['Last month', 'last_month'],
  ] as const) {
    test(`date preset "${label}"`, async ({ page, activityPage, api }) => {
      await activityPage.selectDateRange(label);
      const request = await activityPage.apply();
      expect(request.searchParams.get('range')).toBe(range);
      expect(request.searchParams.get('tz')).toBe(BUSINESS_ZONE);
      await expect(page).toHaveURL(new RegExp(`[?&]range=${range}`));
      await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ range }));
    });
  }

  test('custom dates', async ({ page, activityPage, api }) => {
    const from = businessDate(10);
    const to = businessDate(3);
    await activityPage.setCustomDates(from, to);
    await activityPage.apply();
    await expect(page).toHaveURL(new RegExp(`from=${from}&to=${to}`));
    const expected = await api.eventIds({ from, to });
    expect(expected.length).toBeGreaterThan(0);
    await expect.poll(() => activityPage.rowIds()).toEqual(expected);
  });

  test('a start date after the end date cannot be applied', async ({ activityPage }) => {
    await activityPage.setCustomDates(businessDate(1), businessDate(5));
    await expect(activityPage.filters.getByText('The start date must be on or before the end date.')).toBeVisible();
    await expect(activityPage.filters.getByRole('button', { name: 'Filter' })).toBeDisabled();
  });

  test('user, searched as you type', async ({ page, activityPage, api }) => {
    const actor = (await api.actors()).items.find((a) => a.name.length >= 3)!;
    await activityPage.chooseUser(actor.name.slice(0, 3), actor.name);
    await activityPage.apply();
    await expect(page).toHaveURL(new RegExp(`actor_id=${encodeURIComponent(actor.id)}`));
    const expected = await api.eventIds({ actor_id: [actor.id] });
    expect(expected.length).toBeGreaterThan(0);
    await expect.poll(() => activityPage.rowIds()).toEqual(expected);
    for (const name of await activityPage.columnTexts('User')) expect(name).toContain(actor.name);
  });

  test('type (module)', async ({ activityPage, api }) => {
    await activityPage.selectType('Invoice');
    await activityPage.apply();
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ module: 'invoice' }));
    expect(new Set(await activityPage.columnTexts('Type'))).toEqual(new Set(['Invoice']));
  });

  test('event (verb)', async ({ activityPage, api }) => {
    await activityPage.selectEvent('Deleted');
    await activityPage.apply();
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ verb: 'deleted' }));
    expect(new Set(await activityPage.columnTexts('Event'))).toEqual(new Set(['Deleted']));
  });

  test('keyword search applies as you type, once typing pauses', async ({ page, activityPage, api }) => {
    const keyword = 'BOK';
    const requests: URL[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname === '/api/v1/events') requests.push(url);
    });
    await activityPage.searchBox().pressSequentially(keyword, { delay: 60 });
    await expect(page).toHaveURL(/[?&]q=BOK/);
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ q: keyword }));
    expect(requests.filter((u) => u.searchParams.has('q')).map((u) => u.searchParams.get('q'))).toEqual([keyword]);
  });

  test('an activity ID finds that activity', async ({ activityPage, api }) => {
    const [, second] = await api.eventIds();
    await activityPage.searchBox().fill(String(second));
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ q: String(second) }));
    expect(await activityPage.rowIds()).toContain(second);
  });

  test('filters combine, and Reset clears them', async ({ page, activityPage, api }) => {
    await activityPage.selectDateRange('Last 30 days');
    await activityPage.selectType('Booking');
    await activityPage.selectEvent('Updated');
    await activityPage.apply();
    const expected = await api.eventIds({ range: 'last_30_days', module: 'booking', verb: 'updated' });
    expect(expected.length).toBeGreaterThan(0);
    await expect.poll(() => activityPage.rowIds()).toEqual(expected);

    await activityPage.reset();
    await expect(page).toHaveURL(/\/$/);
    await expect(activityPage.field('Type')).toHaveValue('');
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds());
  });

  test('the Flagged filter narrows the list to flagged events, one kind at a time, and Reset clears it', async ({
    page,
    activityPage,
    api,
  }) => {
    const all = (await api.events()).total!;
    await activityPage.selectFlag('Any flag');
    const request = await activityPage.apply();
    expect(request.searchParams.get('flag')).toBe('any');
    await expect(page).toHaveURL(/[?&]flag=any/);
    const flagged = await api.events({ flag: 'any' });
    expect(flagged.total!, 'flagged events in the demo data').toBeGreaterThan(0);
    expect(flagged.total!).toBeLessThan(all);
    await expect.poll(() => activityPage.rowIds()).toEqual(flagged.items.map((e) => e.id));
    for (const kinds of await activityPage.rowFlagKinds()) expect(kinds.length).toBeGreaterThan(0);
    await expect(activityPage.summary()).toContainText(`of ${flagged.total!.toLocaleString('en-GB')} activities`);

    // One kind: fewer still, each row carrying that flag.
    const { kinds } = await api.flagSummary();
    const kind = kinds.find((k) => k.count > 0 && k.count < flagged.total!) ?? kinds.find((k) => k.count > 0)!;
    await activityPage.selectFlag(kind.kind);
    const narrowed = await activityPage.apply();
    expect(narrowed.searchParams.get('flag')).toBe(kind.kind);
    const ofKind = await api.events({ flag: kind.kind });
    expect(ofKind.total).toBe(kind.count);
    await expect.poll(() => activityPage.rowIds()).toEqual(ofKind.items.map((e) => e.id));
    for (const rowKinds of await activityPage.rowFlagKinds()) expect(rowKinds).toContain(kind.kind);

    await activityPage.reset();
    await expect(page).toHaveURL(/\/$/);
    await expect(activityPage.field('Flagged')).toHaveValue('');
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds());
  });

  test('shows the empty state when nothing matches', async ({ page, activityPage }) => {
    await activityPage.searchBox().fill('no-such-thing-anywhere-42');
    await expect(page.getByText('No activity matches these filters')).toBeVisible();
  });

  test('a filtered URL reloads to the same rows, and back/forward follow the filters', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=booking&verb=updated&sort=actor&order=asc&page=2&per_page=10');
    const expected = await api.eventIds({
      module: 'booking',
      verb: 'updated',
      sort: 'actor',
      order: 'asc',
      page: 2,
      per_page: 10,
    });
    await expect.poll(() => activityPage.rowIds()).toEqual(expected);
    await expect(activityPage.field('Type')).toHaveValue('booking');
    await expect(activityPage.field('Event')).toHaveValue('updated');

    await page.reload();
    await activityPage.waitForSettled();
    await expect.poll(() => activityPage.rowIds()).toEqual(expected);
    await expect(activityPage.header('User')).toHaveAttribute('aria-sort', 'ascending');

    await activityPage.selectType('Invoice');
    await activityPage.apply();
    await expect(page).toHaveURL(/module=invoice/);
    await page.goBack();
    await expect(page).toHaveURL(/module=booking/);
    await expect(activityPage.field('Type')).toHaveValue('booking');
    await expect.poll(() => activityPage.rowIds()).toEqual(expected);
    await page.goForward();
    await expect(activityPage.field('Type')).toHaveValue('invoice');
  });

  test('Tab leaves the user search for the next field, never for the page itself', async ({ page, activityPage }) => {
    await activityPage.goto();
    const box = page.getByRole('combobox', { name: 'User' });
    await box.fill('ad');
    await expect(page.getByRole('listbox', { name: 'User' })).toBeVisible();
    await page.keyboard.press('Tab');
    await expect(page.getByRole('listbox', { name: 'User' })).toBeHidden();
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('SELECT');
  });

  test("the keyword finds what people type: a related record's name and a changed value", async ({ activityPage, api }) => {
    // A booking whose customer is only a related record: its name is not in the description.
    const events = (await api.events({ per_page: 100, module: 'booking' })).items;
    const related = events.find((e) => e.related.some((r) => r.label && !e.description.includes(r.label)));
    expect(related, 'the demo data has a booking with a related customer').toBeTruthy();
    const name = related!.related.find((r) => r.label && !related!.description.includes(r.label))!.label!;
    await activityPage.goto(`q=${encodeURIComponent(name)}`);
    const found = await activityPage.rowIds();
    expect(found).toEqual(await api.eventIds({ q: name }));
    const record = { record_type: related!.entity!.type, record_id: related!.entity!.id };
    expect((await api.events({ q: name, ...record, per_page: 100 })).items.map((e) => e.id)).toContain(related!.id);

    // A value inside a change, old or new.
    const changed = (await api.events({ per_page: 100, verb: 'updated' })).items.find((e) =>
      e.changes.some((c) => typeof c.new === 'string' && c.new.length >= 4 && !e.description.includes(c.new)),
    );
    expect(changed, 'the demo data has an update with a changed text value').toBeTruthy();
    const value = changed!.changes.find((c) => typeof c.new === 'string' && c.new.length >= 4)!.new as string;
    await activityPage.goto(`q=${encodeURIComponent(value)}`);
    expect(await activityPage.rowIds()).toEqual(await api.eventIds({ q: value }));
    const itsRecord = { record_type: changed!.entity!.type, record_id: changed!.entity!.id };
    expect((await api.events({ q: value, ...itsRecord, per_page: 100 })).items.map((e) => e.id)).toContain(changed!.id);
  });
});
