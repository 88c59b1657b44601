import { expect, type Locator, type Page } from '@playwright/test';

export class ReviewSettingsAdminPage {
  readonly form: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.form = page.getByRole('form', { name: 'Review settings' });
  }

  async goto() {
    await this.page.goto('/admin/review');
    await expect(this.page.getByRole('heading', { name: 'Review settings', level: 1 })).toBeVisible();
    await expect(this.form).toBeVisible();
  }

  readonly current = () => this.page.getByTestId('review-settings-current');
  readonly day = (name: string) => this.form.getByRole('checkbox', { name, exact: true });
  readonly field = (label: string) => this.form.getByLabel(label, { exact: true });
  readonly logViews = () => this.form.getByRole('checkbox', { name: 'Record who opens an event’s details' });
  readonly status = () => this.form.getByRole('status');
  readonly alert = () => this.form.getByRole('alert');

  async save() {
    await this.form.getByRole('button', { name: 'Save settings' }).click();
  }
}
