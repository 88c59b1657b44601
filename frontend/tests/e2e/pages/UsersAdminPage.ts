import { expect, type Locator, type Page } from '@playwright/test';

export interface NewUser {
  name: string;
  email: string;
  password: string;
  role: 'member' | 'manager' | 'admin';
}

export class UsersAdminPage {
  readonly table: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('users-table');
  }

  async goto() {
    await this.page.goto('/admin/users');
    await expect(this.page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
    await expect(this.table).toBeVisible();
  }

  readonly notice = () => this.page.getByRole('main').getByRole('status');
  readonly error = () => this.page.getByRole('main').getByRole('alert');
  readonly addDialog = () => this.page.getByRole('dialog', { name: 'Add a user' });

  row(email: string): Locator {
    return this.table.locator(`tbody tr[data-user-email="${email}"]`);
  }

  roleSelect(email: string): Locator {
    return this.row(email).getByRole('combobox');
  }

  async addUser(user: NewUser) {
    await this.page.getByRole('button', { name: 'Add user' }).click();
    const dialog = this.addDialog();
    await dialog.getByLabel('Name').fill(user.name);
    await dialog.getByLabel('Email').fill(user.email);
    await dialog.getByLabel('Initial password').fill(user.password);
    await dialog.getByLabel('Role').selectOption(user.role);
    await dialog.getByRole('button', { name: 'Add user' }).click();
  }

  async setRole(email: string, role: NewUser['role']) {
    await this.roleSelect(email).selectOption(role);
  }

  /** Clicks Deactivate…/Reactivate… on the row and returns the confirmation dialog. */
  async openActiveToggle(email: string): Promise<Locator> {
    await this.row(email)
      .getByRole('button', { name: /^(Deactivate|Reactivate)…$/ })
      .click();
    const dialog = this.page.getByRole('dialog');
    await expect(dialog).toBeVisible();
    return dialog;
  }
}
