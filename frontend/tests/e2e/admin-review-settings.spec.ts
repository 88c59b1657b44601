import type { ApiReviewSettings } from './support/apiClient';
import { expect, test } from './support/fixtures';

test.describe('Review settings', () => {
  // Chromium logs every 4xx response to the console; the 422 is the point of one test.
  test.use({ allowedConsoleErrors: [/status of 422/] });

  let original: ApiReviewSettings;
  test.beforeEach(async ({ api }) => {
    original = await api.reviewSettings();
  });
  // What counts as unusual changes how later events are flagged: leave it as it was.
  test.afterEach(async ({ api }) => {
    await api.setReviewSettings(original);
  });

  test('an admin changes the settings and finds them saved after a reload', async ({
    page,
    header,
    reviewSettingsPage: settings,
    api,
  }) => {
    await page.goto('/admin/users');
    await header.adminNav().getByRole('link', { name: 'Review settings' }).click();
    await expect(page).toHaveURL(/\/admin\/review$/);
    await expect(settings.form).toBeVisible();

    const saturday = !original.working_days.includes(6);
    const failedLogins = original.failed_logins === 9 ? 8 : 9;
    await settings.day('Saturday').setChecked(saturday);
    await settings.field('Working day starts').fill('06:30');
    await settings.field('Working day ends').fill('21:15');
    await settings.field('Failed sign-ins').fill(String(failedLogins));
    await settings.field('Rows exported').fill('25000');
    await settings.logViews().setChecked(!original.log_views);
    await settings.save();
    await expect(settings.status()).toContainText('Saved. Business hours are');
    await expect(settings.status()).toContainText('06:30–21:15');

    const stored = await api.reviewSettings();
    expect(stored).toMatchObject({
      day_starts: '06:30',
      day_ends: '21:15',
      failed_logins: failedLogins,
      bulk_export_rows: 25000,
      log_views: !original.log_views,
    });
    expect(stored.working_days.includes(6)).toBe(saturday);

    await page.reload();
    await expect(settings.field('Working day starts')).toHaveValue('06:30');
    await expect(settings.field('Working day ends')).toHaveValue('21:15');
    await expect(settings.field('Failed sign-ins')).toHaveValue(String(failedLogins));
    await expect(settings.field('Rows exported')).toHaveValue('25000');
    if (saturday) await expect(settings.day('Saturday')).toBeChecked();
    else await expect(settings.day('Saturday')).not.toBeChecked();
    if (original.log_views) await expect(settings.logViews()).not.toBeChecked();
    else await expect(settings.logViews()).toBeChecked();
    await expect(settings.current()).toContainText('06:30–21:15');
  });

  test('a working day that ends before it starts is refused, with the message by the field', async ({
    reviewSettingsPage: settings,
    api,
  }) => {
    await settings.goto();
    await settings.field('Working day starts').fill('21:00');
    await settings.field('Working day ends').fill('20:00');
    await settings.save();
    await expect(settings.field('Working day starts')).toHaveAttribute('aria-invalid', 'true');
    await expect(settings.field('Working day starts')).toHaveAccessibleDescription(/before/);
    await expect(settings.alert()).toHaveText('Check the highlighted fields.');
    await expect(settings.status()).toHaveCount(0);
    expect(await api.reviewSettings()).toEqual(original);
  });
});
