import { expect, test } from './support/fixtures';

test.describe('API tokens', () => {
  test('an admin creates a token, sees its secret once, and revokes it', async ({ page, request, tokensPage }) => {
    const name = `E2E reader ${Date.now()}`;
    await tokensPage.goto();
    const secret = await tokensPage.create(name, ['events:read'], 30);
    expect(secret.length).toBeGreaterThan(20);
    await expect(tokensPage.secretDialog()).toContainText('You will not see it again');

    // The secret is a working bearer token with the scope asked for.
    const auth = { Authorization: `Bearer ${secret}` };
    expect((await request.get('/api/v1/events?per_page=10', { headers: auth })).status()).toBe(200);

    // Esc does not lose the secret: the dialog waits for "I have copied it".
    await page.keyboard.press('Escape');
    await expect(tokensPage.secretDialog()).toContainText('once this closes, the secret is gone');
    await expect(tokensPage.secretDialog().getByRole('button', { name: 'Done' })).toBeDisabled();
    await tokensPage.secretDialog().getByLabel('I have copied the secret and stored it safely').check();
    await tokensPage.secretDialog().getByRole('button', { name: 'Done' }).click();
    await expect(tokensPage.secretDialog()).toBeHidden();
    const row = tokensPage.row(name);
    await expect(row).toContainText('events:read');
    await expect(row).toContainText('Active');
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await expect(row).toBeVisible();
    expect(await page.content()).not.toContain(secret);

    await tokensPage.revoke(name);
    await expect(tokensPage.notice()).toHaveText(`Token “${name}” was revoked.`);
    await expect(row).toContainText('Revoked');
    await expect(row.getByRole('button', { name: `Revoke ${name}` })).toHaveCount(0);
    expect((await request.get('/api/v1/events?per_page=10', { headers: auth })).status()).toBe(401);
  });

  test('asks for a name and a scope', async ({ page, tokensPage }) => {
    await tokensPage.goto();
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API token' });
    await dialog.getByRole('checkbox', { name: /^events:write / }).uncheck();
    await dialog.getByRole('button', { name: 'Create token' }).click();
    await expect(dialog.getByText('Enter a name, e.g. the application and environment.')).toBeVisible();
    await expect(dialog.getByText('Choose at least one scope.')).toBeVisible();
  });
});
