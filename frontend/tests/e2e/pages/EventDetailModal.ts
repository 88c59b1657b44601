import { expect, type Locator, type Page } from '@playwright/test';

export class EventDetailModal {
  readonly root: Locator;

  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.root = page.getByRole('dialog');
  }

  async expectOpen(id: number) {
    await expect(this.page.getByRole('dialog', { name: `Activity #${id}` })).toBeVisible();
    await expect(this.root.getByRole('heading', { name: /Changes|Initial values|Snapshot at deletion/ })).toBeVisible();
  }

  /** Rows of the changes table as [field, previous, new] (or [field, value]). */
  async changeRows(): Promise<string[][]> {
    const rows = this.root.getByTestId('changes-diff').locator('tbody tr');
    const out: string[][] = [];
    for (const row of await rows.all()) {
      out.push((await row.locator('th, td').allInnerTexts()).map((t) => t.trim()));
    }
    return out;
  }

  diffHeaders(): Promise<string[]> {
    return this.root.getByTestId('changes-diff').locator('thead th').allInnerTexts();
  }

  affectedRecordLink(): Locator {
    return this.root.locator('dt:has-text("Affected record") + dd').getByRole('link').first();
  }

  /** The link into the host application beside the affected record. */
  affectedRecordHostLink(): Locator {
    return this.root.locator('dt:has-text("Affected record") + dd').getByRole('link', { name: /^Open in / });
  }

  async close() {
    await this.root.getByRole('button', { name: 'Close' }).click();
    await expect(this.root).toBeHidden();
  }
}
