import { ADMIN, MEMBER, SESSION_KEY } from './support/constants';
import { expect, test } from './support/fixtures';

test.describe('signing in', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test.describe('with a wrong password', () => {
    // Chromium logs every 4xx response to the console; this one is expected.
    test.use({ allowedConsoleErrors: [/status of 401/] });

    test('shows a clear error and stays on the login page', async ({ page, loginPage }) => {
      await loginPage.goto();
      await loginPage.login(ADMIN.email, 'not-the-password');
      await expect(loginPage.error()).toBeVisible();
      await expect(loginPage.error()).not.toBeEmpty();
      await expect(page).toHaveURL(/\/login$/);
      await expect(loginPage.password()).toBeVisible();
    });
  });

  test('asks for both fields before calling the server', async ({ loginPage }) => {
    await loginPage.goto();
    await loginPage.submit().click();
    await expect(loginPage.error()).toHaveText('Enter your email and password.');
  });

  test('sends a signed-out visitor to the login page and back to the link they opened', async ({ page, loginPage }) => {
    await page.goto('/?module=invoice');
    await expect(page).toHaveURL(/\/login$/);
    await loginPage.login(MEMBER.email, MEMBER.password);
    await expect(page).toHaveURL(/\/\?module=invoice$/);
    await expect(page.getByTestId('current-user')).toBeVisible();
    await expect(page.getByText('Your own activity')).toBeVisible();
  });

  test('stays signed in across reloads until logging out', async ({ page, loginPage }) => {
    await loginPage.goto();
    await loginPage.login(ADMIN.email, ADMIN.password);
    await expect(page.getByRole('heading', { name: 'Activity log', exact: true })).toBeVisible();
    const stored = await page.evaluate((key) => JSON.parse(localStorage.getItem(key) ?? 'null'), SESSION_KEY);
    expect(stored.expiresAt).toBeGreaterThan(Date.now());

    await page.reload();
    await expect(page.getByRole('heading', { name: 'Activity log', exact: true })).toBeVisible();

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    expect(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).toBeNull();
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
  });

  test('drops an expired session', async ({ page }) => {
    await page.goto('/login');
    await page.evaluate((key) => {
      localStorage.setItem(key, JSON.stringify({ accessToken: 'stale', expiresAt: Date.now() - 1000, user: {} }));
    }, SESSION_KEY);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
  });
});
