import { expect, test } from './support/fixtures';

/** Ids in the first column of an exported CSV. */
function csvIds(text: string): number[] {
  return text
    .split('\n')
    .filter((line) => /^\d+,/.test(line))
    .map((line) => Number(line.split(',')[0]));
}

test.describe('Bulk export and deletion', () => {
  test('exports the selected rows as CSV', async ({ activityPage, api }) => {
    await activityPage.goto();
    const [first, , third] = await api.eventIds();
    await activityPage.select(first);
    await activityPage.select(third);
    await expect(activityPage.bulkActions()).toContainText('2 selected');
    const file = await activityPage.export(/Export 2 selected…/);
    expect(file.filename).toMatch(/^[a-z0-9-]+_activity_selected-2\.csv$/);
    // A byte-order mark first, so that a spreadsheet reads the UTF-8 as such.
    expect(file.text.startsWith('\uFEFF')).toBe(true);
    expect(file.text.slice(1).split('\n')[0]).toMatch(/^id,/);
    expect(csvIds(file.text).sort()).toEqual([first, third].sort());
  });

  test('exports everything the filters match, not just the page', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=quote&range=last_30_days&per_page=10');
    const { total } = await api.events({ module: 'quote', range: 'last_30_days', per_page: 10 });
    expect(total).toBeGreaterThan(10);
    const file = await activityPage.export(/Export all matching…/);
    expect(file.filename).toMatch(/_activity_\d{4}-\d{2}-\d{2}_to_\d{4}-\d{2}-\d{2}\.csv$/);
    expect(csvIds(file.text)).toHaveLength(total!);
    // The export's own record reads as a sentence, its filters as chips.
    const [recordId] = await api.eventIds({ action: 'auditlog.exported' });
    await activityPage.goto(`event=${recordId}`);
    const record = page.getByRole('dialog');
    await expect(record).toContainText(
      `Exported ${total!.toLocaleString('en-GB')} activities as CSV (filters: module quote, last 30 days)`,
    );
    const chips = record.getByRole('list', { name: 'Export filters' });
    await expect(chips).toContainText('Type: Quote');
    await expect(chips).toContainText('Date range: Last 30 days');
  });

  test('exports a PDF', async ({ activityPage, api }) => {
    await activityPage.goto();
    const [first] = await api.eventIds();
    await activityPage.select(first);
    const file = await activityPage.export(/Export 1 selected…/, 'PDF');
    expect(file.filename).toMatch(/_activity_selected-1\.pdf$/);
    expect(file.text.startsWith('%PDF')).toBe(true);
  });

  test('exports the columns chosen, as Excel, and remembers the choice', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=quote');
    const { total } = await api.events({ module: 'quote', per_page: 10 });
    const file = await activityPage.export(/Export all matching…/, 'Excel (XLSX)', ['Id', 'User', 'Event', 'Related records']);
    expect(file.filename).toMatch(/_activity_until_\d{4}-\d{2}-\d{2}\.xlsx$/);
    // A ZIP (an XLSX is one) holding the sheet with the chosen header.
    expect(file.bytes.subarray(0, 2).toString()).toBe('PK');
    const [recordId] = await api.eventIds({ action: 'auditlog.exported' });
    const record = await api.event(recordId);
    expect(record.metadata).toMatchObject({ format: 'xlsx', rows: total, completed: true });
    expect(String(record.metadata.filters)).toContain('columns=id%2Cactor_name%2Caction%2Crelated');
    // Next time the dialog opens with the same columns.
    await activityPage
      .bulkActions()
      .getByRole('button', { name: /Export all matching…/ })
      .click();
    const dialog = page.getByTestId('export-dialog');
    await expect(dialog.getByRole('checkbox', { name: 'Related records' })).toBeChecked();
    await expect(dialog.getByRole('checkbox', { name: 'Hash', exact: true })).not.toBeChecked();
  });

  test('an admin deletes selected rows after confirming with a reason', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=quote&verb=created');
    const [id] = await api.eventIds({ module: 'quote', verb: 'created' });
    await activityPage.select(id);
    await activityPage.bulkActions().getByRole('button', { name: 'Delete selected…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete 1 activity?' });
    await expect(dialog.getByRole('button', { name: 'Delete' })).toBeDisabled();
    await dialog.getByLabel('Reason (required)').fill('Entered for the wrong customer');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByTestId('toasts')).toContainText('1 activity deleted.');
    expect((await api.event(id)).deleted_at).toBeTruthy();

    // The tombstone says who, when and why, and links to the deletion record, which reads as a
    // sentence and links back.
    await activityPage.goto(`event=${id}`);
    const note = page.getByRole('dialog').getByRole('note');
    await expect(note).toContainText('were deleted');
    await expect(note).toContainText(/by .+ \(Admin\), reason: “Entered for the wrong customer”/);
    await note.getByRole('link', { name: /^#\d+$/ }).click();
    const record = page.getByRole('dialog');
    await expect(record.getByRole('heading', { name: /^Activity #\d+$/ })).not.toHaveText(`Activity #${id}`);
    await expect(record).toContainText(`Deleted 1 activity (#${id}) — reason: Entered for the wrong customer`);
    const deletion = record.getByRole('region', { name: 'Deletion' });
    await expect(deletion).toContainText('Entered for the wrong customer');
    await deletion.getByRole('link', { name: `#${id}` }).click();
    await expect(page.getByRole('dialog').getByRole('note')).toContainText('were deleted');
  });
});
