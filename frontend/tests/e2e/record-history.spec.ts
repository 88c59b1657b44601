import { expect, test } from './support/fixtures';

/** Ids in the first column of an exported CSV (after its byte-order mark and header). */
function csvIds(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => /^\d+,/.test(line))
    .map((line) => Number(line.split(',')[0]));
}

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

test.describe('Record history: filters, timeline and export', () => {
  test('filters a history, shows its milestones and exports exactly what it shows', async ({ page, historyPage, api }) => {
    const tag = `${Date.now()}`;
    const customer = { type: 'customer', id: `hist-${tag}`, label: `Hist ${tag}` };
    const hana = { id: `hana-${tag}`, name: `Hana Historian ${tag}` };
    const omar = { id: `omar-${tag}`, name: `Omar Other ${tag}` };
    const created = await api.ingest({
      action: 'customer.created',
      occurred_at: daysAgo(20),
      actor: hana,
      entity: customer,
      after: { name: customer.label, status: 'lead' },
    });
    const booked = await api.ingest({
      action: 'booking.created',
      occurred_at: daysAgo(15),
      actor: omar,
      entity: { type: 'booking', id: `b-${tag}`, label: `BOK-${tag}` },
      related: [customer],
    });
    const activated = await api.ingest({
      action: 'customer.updated',
      occurred_at: daysAgo(3),
      actor: hana,
      entity: customer,
      changes: [{ field: 'status', old: 'lead', new: 'active' }],
    });
    const phoned = await api.ingest({
      action: 'customer.updated',
      occurred_at: daysAgo(2),
      actor: omar,
      entity: customer,
      changes: [{ field: 'phone', old: '1', new: '2' }],
    });
    const deleted = await api.ingest({
      action: 'customer.deleted',
      occurred_at: daysAgo(1),
      actor: hana,
      entity: customer,
      before: { name: customer.label, status: 'active' },
    });

    await historyPage.goto(customer.type, customer.id);
    await expect.poll(() => historyPage.entryIds()).toEqual([deleted, phoned, activated, booked, created]);

    // Filter by user and event: the URL keeps them, the page says which apply.
    await historyPage.chooseUser(hana.name.split(' ')[0] + ' Historian', hana.name);
    await historyPage.selectEvent('Updated');
    const request = await historyPage.apply();
    expect([request.searchParams.get('actor_id'), request.searchParams.get('verb')]).toEqual([hana.id, 'updated']);
    await expect(page).toHaveURL(new RegExp(`actor_id=${hana.id}&verb=updated`));
    await expect.poll(() => historyPage.entryIds()).toEqual([activated]);
    await expect(historyPage.appliedFilters()).toContainText(`User: ${hana.name}`);
    await expect(historyPage.appliedFilters()).toContainText('Event: Updated');

    // A date range with the user: the last 7 days hold the status change and the deletion.
    await historyPage.reset();
    await expect(page).toHaveURL(`/records/${customer.type}/${customer.id}`);
    await historyPage.selectDateRange('Last 7 days');
    await historyPage.chooseUser('Historian', hana.name);
    await historyPage.apply();
    await expect.poll(() => historyPage.entryIds()).toEqual([deleted, activated]);
    const api7 = await api.history(customer.type, customer.id, { range: 'last_7_days', actor_id: hana.id });
    expect(api7.items.map((e) => e.id)).toEqual([deleted, activated]);

    // The timeline marks the record's milestones, and the switch is kept in the URL.
    await historyPage.showAs('Timeline');
    await expect(page).toHaveURL(/view=timeline/);
    expect(await historyPage.milestones()).toEqual(['Deleted', 'Status: lead → active']);
    await historyPage.reset();
    await expect(page).toHaveURL(/view=timeline/);
    await expect.poll(() => historyPage.entryIds()).toHaveLength(5);
    expect(await historyPage.milestones()).toEqual(['Deleted', 'Status: lead → active', 'Created']);
    await page.reload();
    await historyPage.waitForLoaded();
    await expect(historyPage.timeline).toHaveAttribute('data-layout', 'timeline');

    // The export holds the rows of the history on screen, with its filters.
    const whole = await historyPage.export('CSV');
    expect(whole.filename).toMatch(/\.csv$/);
    expect(csvIds(whole.text)).toEqual([deleted, phoned, activated, booked, created]);
    await historyPage.selectEvent('Created');
    await historyPage.apply();
    await expect.poll(() => historyPage.entryIds()).toEqual([booked, created]);
    const onlyCreated = await historyPage.export('CSV');
    expect(csvIds(onlyCreated.text)).toEqual([booked, created]);
    const pdf = await historyPage.export('PDF');
    expect(pdf.filename).toMatch(/\.pdf$/);
  });
});
