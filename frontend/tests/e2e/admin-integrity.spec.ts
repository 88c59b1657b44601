import { expect, test } from './support/fixtures';

test.describe('Integrity', () => {
  test('"Verify now" in the header checks the chain and shows it verified', async ({ page, header }) => {
    await page.goto('/admin/integrity');
    await expect(header.integrity()).toContainText('Integrity not yet checked');
    await expect(page.getByText('Not yet checked', { exact: true })).toBeVisible();

    await header.verifyNow();
    await expect(header.integrity()).toContainText('Integrity verified');
    await expect(header.integrity()).toContainText(/[\d,]+ events · /);
    const result = page.getByRole('region', { name: 'Verification result' });
    await expect(result).toContainText('Verified: every entry links to its predecessor');
    await expect(result).toContainText('Head hash');

    // The result stays in the cache while moving around the app.
    await header.adminNav().getByRole('link', { name: 'Users' }).click();
    await expect(header.integrity()).toContainText('Integrity verified');
  });
});
