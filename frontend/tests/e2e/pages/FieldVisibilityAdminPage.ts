import { expect, type Locator, type Page } from '@playwright/test';

export class FieldVisibilityAdminPage {
  readonly form: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.form = page.getByRole('form', { name: 'Field visibility' });
  }

  async goto() {
    await this.page.goto('/admin/fields');
    await expect(this.page.getByRole('heading', { name: 'Field visibility', level: 1 })).toBeVisible();
    await expect(this.form).toBeVisible();
  }

  readonly field = (label: string) => this.form.getByLabel(label, { exact: true });
  readonly status = () => this.form.getByRole('status');

  async save() {
    await this.form.getByRole('button', { name: 'Save field visibility' }).click();
  }
}
