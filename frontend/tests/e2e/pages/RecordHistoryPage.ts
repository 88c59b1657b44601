import { expect, type Locator, type Page } from '@playwright/test';

export class RecordHistoryPage {
  readonly timeline: Locator;

  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.timeline = page.getByTestId('history-timeline');
  }

  async goto(type: string, id: string) {
    await this.page.goto(`/records/${type}/${id}`);
    await this.waitForLoaded();
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
