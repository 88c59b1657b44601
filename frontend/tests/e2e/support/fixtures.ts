import { test as base, expect } from '@playwright/test';
import { ActivityLogPage } from '../pages/ActivityLogPage';
import { AlertsAdminPage } from '../pages/AlertsAdminPage';
import { AppHeader } from '../pages/AppHeader';
import { FieldVisibilityAdminPage } from '../pages/FieldVisibilityAdminPage';
import { LoginPage } from '../pages/LoginPage';
import { RecordHistoryPage } from '../pages/RecordHistoryPage';
import { RecordLinksAdminPage } from '../pages/RecordLinksAdminPage';
import { RetentionAdminPage } from '../pages/RetentionAdminPage';
import { ReviewSettingsAdminPage } from '../pages/ReviewSettingsAdminPage';
import { SecurityReviewPage } from '../pages/SecurityReviewPage';
import { TokensAdminPage } from '../pages/TokensAdminPage';
import { UsersAdminPage } from '../pages/UsersAdminPage';
import { ApiClient, storedToken } from './apiClient';

interface Fixtures {
  /** Console messages matching these are expected (e.g. the browser logging a deliberate 401). */
  allowedConsoleErrors: RegExp[];
  failOnConsoleErrors: void;
  api: ApiClient;
  loginPage: LoginPage;
  activityPage: ActivityLogPage;
  historyPage: RecordHistoryPage;
  header: AppHeader;
  usersPage: UsersAdminPage;
  tokensPage: TokensAdminPage;
  retentionPage: RetentionAdminPage;
  reviewPage: SecurityReviewPage;
  reviewSettingsPage: ReviewSettingsAdminPage;
  alertsPage: AlertsAdminPage;
  recordLinksPage: RecordLinksAdminPage;
  fieldVisibilityPage: FieldVisibilityAdminPage;
}

export const test = base.extend<Fixtures>({
  allowedConsoleErrors: [[], { option: true }],
  failOnConsoleErrors: [
    async ({ page, allowedConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !allowedConsoleErrors.some((re) => re.test(msg.text()))) errors.push(msg.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      await use();
      expect(errors, 'errors in the browser console').toEqual([]);
    },
    { auto: true },
  ],
  api: async ({ request }, use) => {
    await use(new ApiClient(request, storedToken()));
  },
  loginPage: async ({ page }, use) => use(new LoginPage(page)),
  activityPage: async ({ page }, use) => use(new ActivityLogPage(page)),
  historyPage: async ({ page }, use) => use(new RecordHistoryPage(page)),
  header: async ({ page }, use) => use(new AppHeader(page)),
  usersPage: async ({ page }, use) => use(new UsersAdminPage(page)),
  tokensPage: async ({ page }, use) => use(new TokensAdminPage(page)),
  retentionPage: async ({ page }, use) => use(new RetentionAdminPage(page)),
  reviewPage: async ({ page }, use) => use(new SecurityReviewPage(page)),
  reviewSettingsPage: async ({ page }, use) => use(new ReviewSettingsAdminPage(page)),
  alertsPage: async ({ page }, use) => use(new AlertsAdminPage(page)),
  recordLinksPage: async ({ page }, use) => use(new RecordLinksAdminPage(page)),
  fieldVisibilityPage: async ({ page }, use) => use(new FieldVisibilityAdminPage(page)),
});

export { expect };
