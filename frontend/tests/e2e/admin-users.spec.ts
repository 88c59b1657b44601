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

  test('your own row can neither demote nor deactivate you, and shows when you last signed in', async ({ usersPage }) => {
    await usersPage.goto();
    await expect(usersPage.row(ADMIN.email)).toContainText('(you)');
    await expect(usersPage.roleSelect(ADMIN.email)).toBeDisabled();
    await expect(usersPage.roleSelect(ADMIN.email)).toHaveAccessibleDescription(
      'Another admin can change your role or deactivate you.',
    );
    await expect(usersPage.row(ADMIN.email).getByRole('button', { name: /^(Deactivate|Reactivate)…$/ })).toHaveCount(0);
    // The demo admin signed in for this run: a recent time, its exact value on hover.
    const lastSignIn = usersPage.row(ADMIN.email).locator('time');
    await expect(lastSignIn).toHaveText(/^(just now|\d+ min ago|\d+ h ago)$/);
    await expect(lastSignIn).toHaveAttribute('title', /\d{2}:\d{2}:\d{2}/);
  });
});
