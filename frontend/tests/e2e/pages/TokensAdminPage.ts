import { expect, type Locator, type Page } from '@playwright/test';

export class TokensAdminPage {
  readonly table: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('tokens-table');
  }

  async goto() {
    await this.page.goto('/admin/tokens');
    await expect(this.page.getByRole('heading', { name: 'API tokens', level: 1 })).toBeVisible();
    await expect(this.table.or(this.page.getByText('No API tokens yet'))).toBeVisible();
  }

  readonly notice = () => this.page.getByRole('main').getByRole('status');
  readonly secretDialog = () => this.page.getByTestId('token-secret');

  row(name: string): Locator {
    return this.table.locator(`tbody tr[data-token-name="${name}"]`);
  }

  /** Creates a token and returns the secret the dialog shows (the dialog stays open). */
  async create(name: string, scopes: ('events:write' | 'events:read')[], expiresInDays?: number): Promise<string> {
    await this.page.getByRole('button', { name: 'New token' }).click();
    const dialog = this.page.getByRole('dialog', { name: 'New API token' });
    await dialog.getByLabel('Name').fill(name);
    for (const scope of ['events:write', 'events:read'] as const) {
      await dialog.getByRole('checkbox', { name: new RegExp(`^${scope} `) }).setChecked(scopes.includes(scope));
    }
    if (expiresInDays !== undefined) await dialog.getByLabel('Expires in (days, optional)').fill(String(expiresInDays));
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await expect(this.secretDialog()).toBeVisible();
    return this.secretDialog().getByLabel('Secret', { exact: true }).inputValue();
  }

  async revoke(name: string) {
    await this.row(name)
      .getByRole('button', { name: `Revoke ${name}` })
      .click();
    const dialog = this.page.getByRole('dialog', { name: `Revoke “${name}”?` });
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await expect(dialog).toBeHidden();
  }
}
