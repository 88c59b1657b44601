import type { ApiFieldVisibility } from './support/apiClient';
import { MEMBER } from './support/constants';
import { expect, test } from './support/fixtures';

/** The demo member's actor id (backend/api/src/cli/seed.rs). */
const MEMBER_ACTOR = '103';

test.describe('Field visibility', () => {
  let original: ApiFieldVisibility;
  test.beforeEach(async ({ api }) => {
    original = await api.fieldVisibility();
  });
  // Other tests read IP addresses as the admin and the manager: leave the setting as it was.
  test.afterEach(async ({ api }) => {
    await api.setFieldVisibility(original);
  });

  test.describe('as a member', () => {
    test.use({ storageState: { cookies: [], origins: [] } });

    test('the IP address and user agent read “Hidden from your role”', async ({ api, loginPage, activityPage }) => {
      await api.setFieldVisibility({ ...original, ip: 'members', user_agent: 'members' });
      const description = `Field visibility probe ${Date.now()}`;
      const id = await api.ingest({
        action: 'booking.updated',
        actor: { id: MEMBER_ACTOR, name: 'Priya Shah' },
        entity: { type: 'booking', id: 'FV-1', label: 'FV-1' },
        description,
        ip: '203.0.113.77',
        user_agent: 'FieldVisibilityProbe/1.0',
      });
      // The admin sees the address.
      expect((await api.event(id)).ip).toBe('203.0.113.77');

      await loginPage.goto();
      await loginPage.login(MEMBER.email, MEMBER.password);
      await activityPage.waitForSettled();
      const row = activityPage.row(id);
      await expect(row).toContainText(description);
      await expect(row).toContainText('Hidden from your role');
      await expect(row).not.toContainText('203.0.113.77');
      // The IP column offers no sort the server would refuse.
      await expect(activityPage.table.getByRole('button', { name: /IP Address/ })).toHaveCount(0);

      const modal = await activityPage.openDetails(id);
      await expect(modal.root.getByTestId('detail-ip')).toHaveText('Hidden from your role');
      await expect(modal.root.getByTestId('detail-user-agent')).toHaveText('Hidden from your role');
      await expect(modal.root).not.toContainText('FieldVisibilityProbe');
    });
  });

  test('an admin hides a field from managers and finds it saved after a reload', async ({
    page,
    header,
    fieldVisibilityPage: settings,
    api,
  }) => {
    await page.goto('/admin/users');
    await header.adminNav().getByRole('link', { name: 'Field visibility' }).click();
    await expect(page).toHaveURL(/\/admin\/fields$/);
    await expect(settings.form).toBeVisible();
    await expect(settings.field('IP address')).toHaveValue(original.ip);

    await settings.field('IP address').selectOption('members_and_managers');
    await settings.field("User's e-mail").selectOption('members');
    await settings.save();
    await expect(settings.status()).toContainText('Saved.');
    expect(await api.fieldVisibility()).toMatchObject({ ip: 'members_and_managers', actor_email: 'members' });

    await page.reload();
    await expect(settings.field('IP address')).toHaveValue('members_and_managers');
    await expect(settings.field("User's e-mail")).toHaveValue('members');
  });
});
