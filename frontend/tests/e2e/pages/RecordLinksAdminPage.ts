import { expect, type Locator, type Page } from '@playwright/test';

export class RecordLinksAdminPage {
  readonly form: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.form = page.getByRole('form', { name: 'Record links' });
  }

  async goto() {
    await this.page.goto('/admin/record-links');
    await this.expectLoaded();
  }

  async expectLoaded() {
    await expect(this.page.getByRole('heading', { name: 'Record links', level: 1 })).toBeVisible();
    await expect(this.form).toBeVisible();
  }

  readonly appName = () => this.form.getByLabel('Application name', { exact: true });
  readonly rows = () => this.form.getByTestId('record-link-row');
  readonly recordType = (row: number) => this.rows().nth(row).getByLabel('Record type', { exact: true });
  readonly template = (row: number) => this.rows().nth(row).getByLabel('URL template', { exact: true });
  readonly preview = (row: number) => this.rows().nth(row).getByTestId('record-link-preview');
  readonly status = () => this.form.getByRole('status');
  readonly alert = () => this.form.getByRole('alert');

  async addRow() {
    await this.form.getByRole('button', { name: 'Add a link' }).click();
  }

  async save() {
    await this.form.getByRole('button', { name: 'Save links' }).click();
  }
}
