import { expect, test } from './support/fixtures';

test.describe('Retention and archives', () => {
  test('an admin sets a preset and a custom retention, both kept after reload', async ({ page, retentionPage }) => {
    await retentionPage.goto();
    await expect(retentionPage.archives()).toBeVisible();

    await retentionPage.save('1 year (365 days)');
    await expect(retentionPage.form.getByRole('status')).toHaveText('Saved. Events older than 365 days are moved to archives.');
    await page.reload();
    await expect(retentionPage.current()).toContainText('older than 365 days');
    await expect(retentionPage.option('1 year (365 days)')).toBeChecked();

    await retentionPage.save('Custom', 0);
    await expect(retentionPage.form.getByText('Enter whole days from 1 to 36500.')).toBeVisible();
    await retentionPage.save('Custom', 4000);
    await expect(retentionPage.form.getByRole('status')).toContainText('older than 4,000 days');
    await page.reload();
    await expect(retentionPage.current()).toContainText('older than 4,000 days');
    await expect(retentionPage.option('Custom')).toBeChecked();
    await expect(retentionPage.customDays()).toHaveValue('4000');

    // Back to the default, so no other test sees events archived.
    await retentionPage.save('Keep forever');
    await expect(retentionPage.form.getByRole('status')).toHaveText('Saved. Events are kept forever.');
    await page.reload();
    await expect(retentionPage.current()).toContainText('Events are kept forever.');
  });
});
