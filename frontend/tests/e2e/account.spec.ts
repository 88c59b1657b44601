import { MANAGER, MEMBER } from './support/constants';
import { expect, test } from './support/fixtures';

const ADMIN_URLS = ['/admin/users', '/admin/tokens', '/admin/retention', '/admin/fields', '/admin/integrity', '/admin/review'];

test.describe('signed in as someone else than the demo admin', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('a member sees no admin navigation, no All/My switch, and "admins only" on admin pages', async ({
    page,
    loginPage,
    header,
  }) => {
    await loginPage.goto();
    await loginPage.login(MEMBER.email, MEMBER.password);
    await expect(header.currentUser()).toBeVisible();
    await expect(header.currentRole()).toHaveText('Member');
    await expect(page.getByText('Your own activity')).toBeVisible();
    await expect(page.getByRole('radiogroup', { name: 'Whose activity' })).toHaveCount(0);
    await expect(header.adminNav()).toHaveCount(0);
    await expect(header.integrity()).toHaveCount(0);

    // The security review is for everyone: a member's counts cover their own activity only.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security review' }).click();
    await expect(page.getByRole('heading', { name: 'Security review', level: 1 })).toBeVisible();
    await expect(page.getByTestId('review-summary')).toHaveAttribute('aria-busy', 'false');
    await expect(page.getByRole('alert')).toHaveCount(0);

    for (const url of ADMIN_URLS) {
      await page.goto(url);
      await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
    }
  });

  test('a manager may switch All/My but gets "admins only" on admin pages', async ({ page, loginPage, header }) => {
    await loginPage.goto();
    await loginPage.login(MANAGER.email, MANAGER.password);
    await expect(header.currentRole()).toHaveText('Manager');
    await expect(page.getByRole('radiogroup', { name: 'Whose activity' })).toBeVisible();
    await expect(header.adminNav()).toHaveCount(0);
    await page.goto('/admin/users');
    await expect(page.getByRole('heading', { name: 'Admins only' })).toBeVisible();
  });

  test.describe('changing the password', () => {
    test.use({ allowedConsoleErrors: [/status of (401|422)/] });

    test('a user changes their password and signs in with the new one', async ({ api, loginPage, header }) => {
      const user = {
        email: `pat.${Date.now()}@acme.example`,
        name: 'Pat Password',
        password: 'old-e2e-password',
        role: 'member',
      };
      const newPassword = 'new-e2e-password-2';
      await api.createUser(user);
      await loginPage.goto();
      await loginPage.login(user.email, user.password);
      await expect(header.currentUser()).toHaveText(user.name);

      const dialog = await header.openChangePassword();
      await header.submitPasswordChange('not-my-password', newPassword);
      await expect(dialog.getByText('not correct')).toBeVisible();
      await expect(dialog.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');

      await header.submitPasswordChange(user.password, newPassword);
      await expect(dialog.getByRole('status')).toHaveText('Your password was changed. Your other sessions were signed out.');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await header.logout();

      await loginPage.login(user.email, user.password);
      await expect(loginPage.error()).toHaveText('Incorrect email or password.');
      await loginPage.login(user.email, newPassword);
      await expect(header.currentUser()).toHaveText(user.name);
    });
  });
});
