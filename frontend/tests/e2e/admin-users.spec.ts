import { ADMIN } from './support/constants';
import { expect, test } from './support/fixtures';

test.describe('Users and roles', () => {
  test('an admin adds a user, changes the role and deactivates it', async ({ page, usersPage }) => {
    const email = `erin.${Date.now()}@acme.example`;
    await usersPage.goto();
    await usersPage.addUser({ name: 'Erin Example', email, password: 'erin-e2e-password', role: 'member' });
    await expect(usersPage.addDialog()).toBeHidden();
    await expect(usersPage.notice()).toHaveText('Erin Example was added as member.');
    await expect(usersPage.row(email)).toContainText('Active');
    await expect(usersPage.roleSelect(email)).toHaveValue('member');

    await usersPage.setRole(email, 'manager');
    await expect(usersPage.notice()).toHaveText('Erin Example is now manager.');

    const dialog = await usersPage.openActiveToggle(email);
    await expect(dialog).toHaveAccessibleName('Deactivate Erin Example?');
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await expect(dialog).toBeHidden();
    await expect(usersPage.notice()).toHaveText('Erin Example was deactivated.');

    await page.reload();
    await expect(usersPage.roleSelect(email)).toHaveValue('manager');
    await expect(usersPage.row(email)).toContainText('Deactivated');
    await expect(usersPage.row(email).getByRole('button', { name: 'Reactivate…' })).toBeVisible();
  });

  test('asks for the required fields and shows what the API rejects', async ({ usersPage }) => {
    await usersPage.goto();
    await usersPage.addUser({ name: '', email: 'not-an-address', password: 'short', role: 'member' });
    const dialog = usersPage.addDialog();
    await expect(dialog.getByText('Enter a name.')).toBeVisible();
    await expect(dialog.getByText('Enter a valid email address.')).toBeVisible();
    await expect(dialog.getByText('Use at least 10 characters.')).toBeVisible();
  });

  test.describe('the last admin', () => {
    // Chromium logs every 4xx response to the console; these 409s are the point of the test.
    test.use({ allowedConsoleErrors: [/status of 409/] });

    test('cannot be demoted or deactivated', async ({ usersPage }) => {
      await usersPage.goto();
      await usersPage.setRole(ADMIN.email, 'member');
      await expect(usersPage.error()).toContainText('last active admin');
      await expect(usersPage.roleSelect(ADMIN.email)).toHaveValue('admin');

      const dialog = await usersPage.openActiveToggle(ADMIN.email);
      await dialog.getByRole('button', { name: 'Deactivate' }).click();
      await expect(dialog.getByRole('alert')).toContainText('last active admin');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(usersPage.row(ADMIN.email)).toContainText('Active');
    });
  });
});
