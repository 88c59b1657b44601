import { expect, type Locator, type Page } from '@playwright/test';

/** The header on every signed-in page: who is signed in, admin navigation, integrity status, password. */
export class AppHeader {
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  readonly currentUser = () => this.page.getByTestId('current-user');
  readonly currentRole = () => this.page.getByTestId('current-role');
  readonly adminNav = () => this.page.getByRole('navigation', { name: 'Administration' });
  readonly integrity = () => this.page.getByTestId('integrity-status');
  readonly passwordDialog = () => this.page.getByRole('dialog', { name: 'Change password' });

  async verifyNow() {
    await this.integrity().getByRole('button', { name: 'Verify now' }).click();
  }

  async openChangePassword(): Promise<Locator> {
    await this.page.getByRole('button', { name: 'Change password' }).click();
    await expect(this.passwordDialog()).toBeVisible();
    return this.passwordDialog();
  }

  /** Fills and sends the change-password form (the dialog must be open). */
  async submitPasswordChange(current: string, next: string) {
    const dialog = this.passwordDialog();
    await dialog.getByLabel('Current password').fill(current);
    await dialog.getByLabel('New password', { exact: true }).fill(next);
    await dialog.getByLabel('Repeat the new password').fill(next);
    await dialog.getByRole('button', { name: 'Change password' }).click();
  }

  async logout() {
    await this.page.getByRole('button', { name: 'Log out' }).click();
    await expect(this.page).toHaveURL(/\/login$/);
  }
}
