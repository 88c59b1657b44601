import { expect, test } from '@playwright/test';
import { ActivityLogPage } from './pages/ActivityLogPage';
import { LoginPage } from './pages/LoginPage';
import { ADMIN, SESSION_KEY, STORAGE_STATE } from './support/constants';

test('sign in as the demo admin', async ({ page }) => {
  const login = new LoginPage(page);
  await login.goto();
  await login.login(ADMIN.email, ADMIN.password);
  // The first page of activity proves the token is accepted before it is saved for the other tests.
  await new ActivityLogPage(page).waitForSettled();
  await expect(page.getByTestId('activity-table').locator('tbody tr[data-event-id]').first()).toBeVisible();
  expect(await page.evaluate((key) => localStorage.getItem(key), SESSION_KEY)).not.toBeNull();
  await page.context().storageState({ path: STORAGE_STATE });
});
