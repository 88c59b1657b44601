import type { ApiRecordLinks } from './support/apiClient';
import { expect, test } from './support/fixtures';

// An id that would leave its path segment if it were not encoded.
const RECORD_ID = '../admin?x=1';
const EXPECTED_HREF = 'https://crm.acme.example/bookings/..%2Fadmin%3Fx%3D1';

test.describe('Links into the host application', () => {
  let original: ApiRecordLinks;
  test.beforeEach(async ({ api }) => {
    original = await api.recordLinks();
  });
  // Other tests read the demo's records without links: leave the setting as it was.
  test.afterEach(async ({ api }) => {
    await api.setRecordLinks(original);
  });

  test('an admin sets a template; the details and the history offer the record in the host application', async ({
    page,
    header,
    recordLinksPage: links,
    activityPage,
    historyPage,
    api,
  }) => {
    const id = await api.ingest({
      action: 'booking.created',
      entity: { type: 'booking', id: RECORD_ID, label: 'BOK-E2E-LINK' },
      changes: [{ field: 'status', new: 'confirmed' }],
    });

    await page.goto('/admin/users');
    await header.adminNav().getByRole('link', { name: 'Record links' }).click();
    await expect(page).toHaveURL(/\/admin\/record-links$/);
    await links.expectLoaded();

    await links.appName().fill('Acme CRM');
    await links.addRow();
    const row = (await links.rows().count()) - 1;
    await links.recordType(row).fill('booking');
    // Told as it is typed, before anything is sent.
    await links.template(row).fill('http://crm.acme.example/bookings/{id}');
    await expect(links.template(row)).toHaveAccessibleDescription(/Start with https:\/\//);
    await links.template(row).fill('https://crm.acme.example/bookings/{id}');
    await expect(links.template(row)).not.toHaveAttribute('aria-invalid');
    await expect(links.preview(row)).toHaveText('https://crm.acme.example/bookings/12345');
    await links.save();
    await expect(links.status()).toContainText('Saved.');
    expect((await api.recordLinks()).templates).toContainEqual({
      entity_type: 'booking',
      url: 'https://crm.acme.example/bookings/{id}',
    });

    // The details modal, beside the affected record.
    await activityPage.goto(`event=${id}`);
    await activityPage.modal.expectOpen(id);
    const fromDetails = activityPage.modal.affectedRecordHostLink();
    await expect(fromDetails).toHaveText(/Open in Acme CRM/);
    await expect(fromDetails).toHaveAttribute('href', EXPECTED_HREF);
    await expect(fromDetails).toHaveAttribute('rel', 'noopener noreferrer');
    await expect(fromDetails).toHaveAttribute('target', '_blank');
    // Our own history link stays beside it.
    await expect(activityPage.modal.affectedRecordLink()).toHaveText('Booking BOK-E2E-LINK');

    // The record's history page, in its title.
    await activityPage.modal.affectedRecordLink().click();
    await historyPage.waitForLoaded();
    await expect(historyPage.heading()).toHaveText('Booking BOK-E2E-LINK');
    const fromHistory = historyPage.hostLink();
    await expect(fromHistory).toHaveAttribute('href', EXPECTED_HREF);
    await expect(fromHistory).toHaveAttribute('rel', 'noopener noreferrer');
    await expect(fromHistory).toHaveAttribute('target', '_blank');

    // A type without a template offers nothing more than our history link.
    await page.goto('/records/invoice/no-such-invoice');
    await expect(page.getByText('No activity recorded for this record')).toBeVisible();
    await expect(historyPage.hostLink()).toHaveCount(0);
  });
});
