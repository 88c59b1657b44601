import { expect, test } from './support/fixtures';

test.describe('Integrity', () => {
  test('"Verify now" in the header verifies the log and shows it verified', async ({ page, header }) => {
    await page.goto('/admin/integrity');
    // A run may be stored already (the daily schedule, an earlier test): the badge shows it, or none.
    await expect(header.integrity()).toContainText(/Not verified yet|Verified .* · [\d,]+ events/);
    await expect(page.getByText('Not yet checked in this session', { exact: true })).toBeVisible();

    await header.verifyNow();
    await expect(header.integrity()).toContainText(/Verified just now · [\d,]+ events/);
    await expect(header.integrity()).toContainText(/[\d,]+ checkpoints? matched/);
    const result = page.getByRole('region', { name: 'Verification result' });
    await expect(result).toContainText('Verified: every entry matches its hash');
    await expect(result).toContainText('Head hash');
    // The server stored the run; the page also shows the latest signed checkpoint and the key.
    await expect(page.getByRole('region', { name: 'Last verification' })).toContainText('On request');
    await expect(page.getByRole('region', { name: 'Latest signed checkpoint' })).toContainText('Tree size');
    await expect(page.getByTestId('public-key')).toBeVisible();

    // The result stays in the cache while moving around the app.
    await header.adminNav().getByRole('link', { name: 'Users' }).click();
    await expect(header.integrity()).toContainText('Verified just now');
    // And the server remembers it: a reload (a new session's cache) still shows the run.
    await page.reload();
    await expect(header.integrity()).toContainText(/Verified (just now|1 min ago) · [\d,]+ events/);
  });
});
