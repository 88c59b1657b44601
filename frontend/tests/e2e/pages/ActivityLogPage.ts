import { expect, type Locator, type Page, type Response } from '@playwright/test';
import { EventDetailModal } from './EventDetailModal';

const isEventList = (response: Response) =>
  new URL(response.url()).pathname === '/api/v1/events' && response.request().method() === 'GET';

export type SortableColumn = 'User' | 'Type' | 'Event' | 'IP Address' | 'Date/Time';

export class ActivityLogPage {
  readonly table: Locator;
  /** The cards that replace the table on narrow screens. */
  readonly cards: Locator;
  /** The table or the cards, whichever the screen shows. */
  readonly list: Locator;
  readonly filters: Locator;
  readonly modal: EventDetailModal;

  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('activity-table');
    this.cards = page.getByTestId('activity-cards');
    this.list = this.table.or(this.cards);
    this.filters = page.getByRole('search', { name: 'Filter activity' });
    this.modal = new EventDetailModal(page);
  }

  /** Opens the page (optionally with a query string) and waits for its rows. */
  async goto(search = '') {
    await Promise.all([this.page.waitForResponse(isEventList), this.page.goto(`/${search ? `?${search}` : ''}`)]);
    await this.waitForSettled();
  }

  async waitForSettled() {
    await expect(this.page.getByRole('heading', { name: 'Activity log', exact: true })).toBeVisible();
    await expect(this.list.or(this.page.getByText('No activity matches these filters'))).toBeVisible();
    await expect(this.list.or(this.page.getByText('No activity matches these filters'))).not.toHaveAttribute('aria-busy', 'true');
  }

  /** Runs an action that should fetch a new list, and waits for the table to show it. */
  async expectReload(action: () => Promise<unknown>): Promise<URL> {
    const [response] = await Promise.all([this.page.waitForResponse(isEventList), action()]);
    await this.waitForSettled();
    return new URL(response.url());
  }

  async rowIds(): Promise<number[]> {
    if (!(await this.list.isVisible())) return [];
    return this.list.locator('[data-event-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-event-id'))));
  }

  /** One event's table row or card. */
  row(id: number): Locator {
    return this.list.locator(`[data-event-id="${id}"]`);
  }

  /** The button that opens an event's details (a row's Details button, or the card's own). */
  detailsButton(id: number): Locator {
    return this.row(id).getByRole('button', { name: new RegExp(`^Details of activity ${id}\\b`) });
  }

  /** Taps a card (narrow screens) beside its time, where nothing but the card itself answers. */
  async tapCard(id: number) {
    const card = this.row(id);
    const box = await card.boundingBox();
    await card.tap({ position: { x: box!.width - 16, y: 16 } });
  }

  /** The applied filters shown above the list. */
  chips(): Locator {
    return this.page.getByRole('group', { name: 'Applied filters' });
  }

  async chipTexts(): Promise<string[]> {
    if (!(await this.chips().isVisible())) return [];
    return this.chips().locator('.applied-filter__text').allInnerTexts();
  }

  /** Removes one applied filter by its chip, and waits for the list it leaves. */
  removeChip(text: string): Promise<URL> {
    return this.expectReload(() =>
      this.chips()
        .getByRole('button', { name: `Remove filter ${text}`, exact: true })
        .click(),
    );
  }

  /** The cell texts of one column, found by its header. */
  async columnTexts(header: 'User' | 'Type' | 'Event' | 'Description' | 'IP Address'): Promise<string[]> {
    const headers = await this.table.locator('thead th').allInnerTexts();
    const index = headers.findIndex((h) => h.replace(/[↕▲▼]/g, '').trim() === header);
    return this.table.locator(`tbody tr td:nth-child(${index + 1})`).allInnerTexts();
  }

  select(id: number): Promise<void> {
    return this.row(id)
      .getByRole('checkbox', { name: `Select activity ${id}` })
      .check();
  }

  bulkActions(): Locator {
    return this.page.getByRole('toolbar', { name: 'Bulk actions' });
  }

  /**
   * Opens the export dialog with `button`, picks `format` (and, for CSV or Excel, exactly
   * `columns` by their labels), downloads through the browser's download manager and returns the
   * file's name and bytes.
   */
  async export(
    button: RegExp,
    format: 'CSV' | 'Excel (XLSX)' | 'PDF' = 'CSV',
    columns?: string[],
  ): Promise<{ filename: string; text: string; bytes: Buffer }> {
    await this.bulkActions().getByRole('button', { name: button }).click();
    return downloadFromDialog(this.page, format, columns);
  }

  // Filters: staged, then applied with Filter.
  field(label: string): Locator {
    return this.filters.getByLabel(label, { exact: true });
  }

  async selectDateRange(label: string) {
    await this.field('Date range').selectOption({ label });
  }

  async setCustomDates(from: string, to: string) {
    await this.selectDateRange('Custom dates');
    await this.field('From date').fill(from);
    await this.field('To date').fill(to);
  }

  async selectType(label: string) {
    await this.field('Type').selectOption({ label });
  }

  async selectEvent(label: string) {
    await this.field('Event').selectOption({ label });
  }

  /** "Any flag", a kind's label, or a kind (`new_ip`). */
  async selectFlag(option: string) {
    await this.field('Flagged').selectOption(option);
  }

  /** The kinds each row's flag badge names, by row (an empty list for a row without one). */
  async rowFlagKinds(): Promise<string[][]> {
    return this.table.locator('tbody tr[data-event-id]').evaluateAll((rows) =>
      rows.map((r) => {
        const kinds = r.querySelector('[data-testid="flag-badge"]')?.getAttribute('data-flag-kinds');
        return kinds ? kinds.split(' ') : [];
      }),
    );
  }

  async chooseUser(search: string, name: string) {
    await chooseUserIn(this.page, this.filters, search, name);
  }

  searchBox(): Locator {
    return this.filters.getByRole('searchbox', { name: 'Search' });
  }

  apply(): Promise<URL> {
    return this.expectReload(() => this.filters.getByRole('button', { name: 'Filter' }).click());
  }

  /** Reset may land on a view already in the cache, so it does not wait for a request. */
  async reset() {
    await this.filters.getByRole('button', { name: 'Reset' }).click();
    await this.waitForSettled();
  }

  // Sorting and paging.
  header(column: SortableColumn): Locator {
    return this.table.getByRole('columnheader', { name: column, exact: true });
  }

  sortBy(column: SortableColumn): Promise<URL> {
    return this.expectReload(() => this.header(column).getByRole('button').click());
  }

  pagination(): Locator {
    return this.page.getByRole('navigation', { name: 'Pagination' });
  }

  goToPage(page: number): Promise<URL> {
    return this.expectReload(() =>
      this.pagination()
        .getByRole('button', { name: `Page ${page}`, exact: true })
        .click(),
    );
  }

  nextPage(): Promise<URL> {
    return this.expectReload(() => this.pagination().getByRole('button', { name: 'Next page' }).click());
  }

  setPageSize(size: 10 | 25 | 50 | 100): Promise<URL> {
    return this.expectReload(() => this.page.getByLabel('Rows per page').selectOption(String(size)));
  }

  summary(): Locator {
    return this.page.getByText(/^Showing \d/);
  }

  async openDetails(id: number) {
    await this.detailsButton(id).click();
    await this.modal.expectOpen(id);
    return this.modal;
  }
}

/** Fills the open export dialog and returns the file the browser downloads. */
export async function downloadFromDialog(
  page: Page,
  format: 'CSV' | 'Excel (XLSX)' | 'PDF',
  columns?: string[],
): Promise<{ filename: string; text: string; bytes: Buffer }> {
  const dialog = page.getByTestId('export-dialog');
  await dialog.getByRole('radio', { name: format }).check();
  if (columns) {
    for (const box of await dialog.getByRole('checkbox').all()) {
      const label = (await box.evaluate((el) => el.closest('label')?.textContent ?? '')).trim();
      await box.setChecked(columns.includes(label));
    }
  }
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download' }).click()]);
  const stream = await download.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return { filename: download.suggestedFilename(), text: bytes.toString('utf8'), bytes };
}

/** Types `search` into the filters' user box and picks the suggestion for `name`. */
export async function chooseUserIn(page: Page, filters: Locator, search: string, name: string) {
  const input = filters.getByRole('combobox', { name: 'User' });
  await input.fill(search);
  await page
    .getByRole('option', { name: new RegExp(`^${name}`) })
    .first()
    .click();
  await expect(input).toHaveValue(name);
}
