import { expect, type Locator, type Page } from '@playwright/test';

export class RetentionAdminPage {
  readonly form: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.form = page.getByRole('form', { name: 'Retention' });
  }

  async goto() {
    await this.page.goto('/admin/retention');
    await expect(this.page.getByRole('heading', { name: 'Retention & archives', level: 1 })).toBeVisible();
    await expect(this.form).toBeVisible();
  }

  readonly current = () => this.page.getByTestId('retention-current');
  readonly option = (label: string) => this.form.getByRole('radio', { name: label });
  readonly customDays = () => this.form.getByRole('spinbutton', { name: 'Days' });
  readonly archives = () => this.page.getByRole('region', { name: 'Archives' });

  /** Picks an option (and the custom days), saves, and waits for the confirmation. */
  async save(label: string, customDays?: number) {
    await this.option(label).check();
    if (customDays !== undefined) await this.customDays().fill(String(customDays));
    await this.form.getByRole('button', { name: 'Save retention' }).click();
  }
}
