import { expect, type Locator, type Page, type Response } from '@playwright/test';
import { chooseUserIn, downloadFromDialog } from './ActivityLogPage';

const isHistory = (response: Response) =>
  /^\/api\/v1\/entities\/[^/]+\/[^/]+\/history$/.test(new URL(response.url()).pathname) && response.request().method() === 'GET';

export class RecordHistoryPage {
  readonly timeline: Locator;
  readonly filters: Locator;

  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.timeline = page.getByTestId('history-timeline');
    this.filters = page.getByRole('search', { name: 'Filter this history' });
  }

  async goto(type: string, id: string, search = '') {
    await this.page.goto(`/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}${search ? `?${search}` : ''}`);
    await this.waitForLoaded();
  }

  // Filters: staged, then applied with Filter.
  async selectDateRange(label: string) {
    await this.filters.getByLabel('Date range', { exact: true }).selectOption({ label });
  }

  async selectEvent(label: string) {
    await this.filters.getByLabel('Event', { exact: true }).selectOption({ label });
  }

  async chooseUser(search: string, name: string) {
    await chooseUserIn(this.page, this.filters, search, name);
  }

  /** Applies the staged filters and waits for the history they select. */
  async apply(): Promise<URL> {
    const [response] = await Promise.all([
      this.page.waitForResponse(isHistory),
      this.filters.getByRole('button', { name: 'Filter' }).click(),
    ]);
    await this.waitForLoaded();
    return new URL(response.url());
  }

  async reset() {
    await this.filters.getByRole('button', { name: 'Reset' }).click();
    await this.waitForLoaded();
  }

  /** The applied filters as the page words them ("Event: Updated"). */
  appliedFilters(): Locator {
    return this.page.getByTestId('history-applied-filters');
  }

  async showAs(layout: 'List' | 'Timeline') {
    const radio = this.page.getByRole('radiogroup', { name: 'Show as' }).getByRole('radio', { name: layout });
    // Checked once the URL says so (a router navigation), not at the click itself.
    await radio.click();
    await expect(radio).toBeChecked();
    await expect(this.timeline).toHaveAttribute('data-layout', layout.toLowerCase());
  }

  /** The milestone headings on the timeline, newest first. */
  milestones(): Promise<string[]> {
    return this.timeline
      .locator('.timeline__milestone')
      .evaluateAll((headings) => headings.map((h) => (h.textContent ?? '').replace(/^Milestone: /, '')));
  }

  /** Exports the history in `format` through the export dialog; the file's name and text. */
  async export(format: 'CSV' | 'PDF'): Promise<{ filename: string; text: string }> {
    await this.page.getByRole('button', { name: 'Export history…' }).click();
    return downloadFromDialog(this.page, format);
  }

  async waitForLoaded() {
    await expect(this.timeline).toBeVisible();
  }

  heading(): Locator {
    return this.page.getByRole('heading', { level: 1 });
  }

  /** The link into the host application in the page's title. */
  hostLink(): Locator {
    return this.page.locator('.page-title').getByRole('link', { name: /^Open in / });
  }

  async entryIds(): Promise<number[]> {
    const ids = await this.timeline
      .locator(':scope > li')
      .evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-event-id'))));
    return ids;
  }

  entry(id: number): Locator {
    return this.timeline.locator(`:scope > li[data-event-id="${id}"]`);
  }

  async expand(id: number) {
    const toggle = this.entry(id).getByRole('button', { expanded: false }).first();
    await toggle.click();
    await expect(
      this.entry(id)
        .getByTestId('changes-diff')
        .or(this.entry(id).getByText(/No field changes/)),
    ).toBeVisible();
  }
}
