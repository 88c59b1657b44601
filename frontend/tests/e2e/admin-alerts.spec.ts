import { expect, test } from './support/fixtures';
import { signatureMatches, startReceiver, type WebhookReceiver } from './support/webhookReceiver';

/** Every rule a test makes is named so, and removed after it, so a test never sees another's rule. */
const PREFIX = 'E2E alert';

/** A filter only the test's own events match: a module of its own and a record id of the moment. */
function probe() {
  const tag = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  return { tag, name: `${PREFIX} ${tag}`, filter: `module=alert_probe&entity_id=${tag}` };
}

test.describe('Alert rules', () => {
  test.afterEach(async ({ api }) => {
    await api.deleteAlertRules(PREFIX);
  });

  test.describe('webhook delivery', () => {
    let receiver: WebhookReceiver;
    test.beforeEach(async () => {
      receiver = await startReceiver();
    });
    test.afterEach(async () => {
      await receiver.close();
    });

    test('an admin creates a webhook rule, keeps its secret, and a matching event arrives signed', async ({
      page,
      header,
      alertsPage,
      api,
    }) => {
      const { tag, name, filter } = probe();
      await page.goto('/admin/users');
      await header.adminNav().getByRole('link', { name: 'Alerts' }).click();
      await alertsPage.waitForList();
      await page.getByRole('link', { name: 'New rule' }).click();
      await expect(page).toHaveURL(/\/admin\/alerts\/new$/);

      await alertsPage.fillWebhookRule({ name, filter, url: receiver.url });
      const preview = page.getByTestId('filter-preview');
      await expect(preview.getByRole('listitem')).toHaveText(['Type: Alert probe', `Record id: ${tag}`]);
      await alertsPage.submit('Create rule');

      // The secret is shown once; Esc does not lose it.
      const dialog = alertsPage.secretDialog();
      await expect(dialog).toBeVisible();
      await expect(dialog).toContainText('You will not see it again');
      const secret = await dialog.getByLabel('Signing secret').inputValue();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      await page.keyboard.press('Escape');
      await expect(dialog).toBeVisible();
      await expect(dialog.getByRole('alert')).toContainText('Copy the secret first');
      await expect(dialog.getByRole('button', { name: 'I have copied it' })).toBeFocused();
      await dialog.getByRole('button', { name: 'I have copied it' }).click();
      await expect(dialog).toBeHidden();
      await expect(page).toHaveURL(/\/admin\/alerts\/\d+$/);
      await expect(alertsPage.heading()).toHaveText(name);
      const ruleId = alertsPage.ruleId();
      await expect(page.getByText('No deliveries yet')).toBeVisible();
      await page.reload();
      await expect(alertsPage.form).toBeVisible();
      expect(await page.content()).not.toContain(secret);

      // An event of another record does not match; the rule's own does, and is delivered.
      await api.ingest({ action: 'alert_probe.fired', entity: { type: 'probe', id: `${tag}-other` } });
      const eventId = await api.ingest({ action: 'alert_probe.fired', entity: { type: 'probe', id: tag, label: 'Probe' } });
      const row = await alertsPage.waitForDelivery('delivered');
      await expect(row).toContainText('Delivered');
      await expect(row).toContainText('1 event');
      await expect(row).toContainText('204');
      await expect(alertsPage.deliveries.locator('tbody tr')).toHaveCount(1);
      const messageId = (await row.getAttribute('data-message-id'))!;

      expect(receiver.received).toHaveLength(1);
      const [request] = receiver.received;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/hooks/activity');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toBe(messageId);
      const timestamp = String(request.headers['webhook-timestamp']);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(300);
      const signature = String(request.headers['webhook-signature']);
      expect(signature).toMatch(/^v1,/);
      expect(signatureMatches(secret, messageId, timestamp, request.body, signature)).toBe(true);
      expect(signatureMatches(secret, messageId, timestamp, `${request.body} `, signature)).toBe(false);
      const body = JSON.parse(request.body) as {
        type: string;
        data: { rule: { id: number }; events: { event: { id: number } }[] };
      };
      expect(body.type).toBe('alert.matched');
      expect(body.data.rule.id).toBe(ruleId);
      expect(body.data.events.map((e) => e.event.id)).toEqual([eventId]);

      // Sent again on request, with the same webhook-id and a fresh signature.
      await row.getByRole('button', { name: `Redeliver ${messageId}` }).click();
      await expect(alertsPage.notice(`Delivery ${messageId} is being sent again`)).toBeVisible();
      await expect.poll(() => receiver.received.length).toBe(2);
      const again = receiver.received[1];
      expect(again.headers['webhook-id']).toBe(messageId);
      expect(
        signatureMatches(
          secret,
          messageId,
          String(again.headers['webhook-timestamp']),
          again.body,
          String(again.headers['webhook-signature']),
        ),
      ).toBe(true);

      // The list shows the rule, active, with its last delivery.
      await page.getByRole('link', { name: 'All alert rules' }).click();
      await alertsPage.waitForList();
      const listed = alertsPage.row(name);
      await expect(listed).toContainText('Type: Alert probe');
      await expect(listed).toContainText(`Webhook ${receiver.url}`);
      await expect(listed).toContainText('Active');
      await expect(listed).toContainText('Delivered');
    });

    test('an admin creates a daily digest, sees it listed as one, and the server keeps its schedule', async ({
      page,
      alertsPage,
      api,
    }) => {
      const { name, filter } = probe();
      await page.goto('/admin/alerts/new');
      await alertsPage.fillWebhookRule({ name, filter, url: receiver.url });
      await expect(alertsPage.sends('Each matching event')).toBeChecked();
      await alertsPage.sends('Daily digest').check();
      await expect(alertsPage.form.getByRole('group', { name: 'Batching' })).toHaveCount(0);
      await expect(alertsPage.field('Filter')).toHaveAccessibleDescription(/It narrows what the digest sums up/);
      await alertsPage.submit('Create rule');

      const dialog = alertsPage.secretDialog();
      await dialog.getByRole('button', { name: 'I have copied it' }).click();
      await expect(dialog).toBeHidden();
      await expect(alertsPage.heading()).toHaveText(name);
      const ruleId = alertsPage.ruleId();
      await expect(page.locator('.page-title').getByText('Daily digest', { exact: true })).toBeVisible();
      await expect(alertsPage.sends('Daily digest')).toBeChecked();
      expect(await api.alertRule(ruleId)).toMatchObject({
        name,
        schedule: 'daily',
        destination: { type: 'webhook', url: receiver.url },
      });

      await page.getByRole('link', { name: 'All alert rules' }).click();
      await alertsPage.waitForList();
      await expect(alertsPage.row(name).getByText('Daily digest', { exact: true })).toBeVisible();
      await expect(alertsPage.row(name)).toContainText(`Webhook ${receiver.url}`);
    });
  });

  test.describe('validation', () => {
    // Chromium logs every 4xx response to the console; the 422 is the point of this test.
    test.use({ allowedConsoleErrors: [/status of 422/] });

    test('the activity filters prefill a rule; a time filter and a missing URL are refused by their fields', async ({
      page,
      activityPage,
      alertsPage,
      api,
    }) => {
      const { name } = probe();
      await activityPage.goto('range=last_30_days&module=booking&flag=any&sort=actor&order=asc');
      await page.getByRole('link', { name: 'Create alert from these filters' }).click();
      await expect(page).toHaveURL(/\/admin\/alerts\/new\?filter=module%3Dbooking%26flag%3Dany$/);
      await expect(alertsPage.field('Filter')).toHaveValue('module=booking&flag=any');
      await expect(page.getByTestId('filter-preview').getByRole('listitem')).toHaveText(['Type: Booking', 'Flagged: Any flag']);

      await alertsPage.field('Name').fill(name);
      await alertsPage.field('Webhook URL').fill('http://127.0.0.1:9/never');
      await alertsPage.field('Filter').fill('module=booking&flag=any&range=today');
      await expect(page.getByTestId('filter-problems')).toContainText('range: not a filter of a rule');
      await alertsPage.submit('Create rule');
      await expect(alertsPage.field('Filter')).toHaveAttribute('aria-invalid', 'true');
      await expect(alertsPage.field('Filter')).toHaveAccessibleDescription(/`range` is not a filter of an alert rule/);
      await expect(alertsPage.form.getByRole('alert')).toHaveText('Check the highlighted fields.');
      await expect(alertsPage.secretDialog()).toHaveCount(0);

      await alertsPage.field('Filter').fill('module=booking&flag=any');
      await alertsPage.field('Webhook URL').fill('');
      await alertsPage.submit('Create rule');
      await expect(alertsPage.field('Webhook URL')).toHaveAttribute('aria-invalid', 'true');
      await expect(alertsPage.field('Webhook URL')).toHaveAccessibleDescription(/^Enter the URL the deliveries are posted to\./);
      await expect(page).toHaveURL(/\/admin\/alerts\/new\?/);
      expect((await api.alertRules()).items.map((r) => r.name)).not.toContain(name);
    });
  });

  test('an admin pauses and resumes a rule, keeping its headers, rotates its secret and deletes it', async ({
    page,
    alertsPage,
    api,
  }) => {
    const { name, filter } = probe();
    const { rule, secret } = await api.createAlertRule({
      name,
      filter,
      destination: { type: 'webhook', url: 'http://127.0.0.1:9/never', headers: [{ name: 'X-Probe-Token', value: 't0ken' }] },
    });
    await alertsPage.goto();
    await expect(alertsPage.row(name)).toContainText('Active');
    await alertsPage.row(name).getByRole('link', { name }).click();
    await expect(alertsPage.heading()).toHaveText(name);
    await expect(page.getByTestId('webhook-headers')).toContainText('Sent with every delivery: X-Probe-Token.');

    await alertsPage.paused().check();
    await alertsPage.submit('Save changes');
    await expect(alertsPage.notice('Saved. The rule is paused')).toBeVisible();
    await expect(page.locator('.page-title').getByText('Paused', { exact: true })).toBeVisible();
    expect(await api.alertRule(rule.id)).toMatchObject({
      paused: true,
      destination: { type: 'webhook', header_names: ['X-Probe-Token'] },
    });
    await page.getByRole('link', { name: 'All alert rules' }).click();
    await alertsPage.waitForList();
    await expect(alertsPage.row(name)).toContainText('Paused');

    await alertsPage.row(name).getByRole('link', { name }).click();
    await expect(alertsPage.paused()).toBeChecked();
    await alertsPage.paused().uncheck();
    await alertsPage.submit('Save changes');
    await expect(alertsPage.notice(/^Saved\.$/)).toBeVisible();
    await expect(page.locator('.page-title').getByText('Active', { exact: true })).toBeVisible();
    expect(await api.alertRule(rule.id)).toMatchObject({ paused: false, destination: { header_names: ['X-Probe-Token'] } });

    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page
      .getByRole('dialog', { name: `Rotate the signing secret of “${name}”?` })
      .getByRole('button', { name: 'Rotate secret' })
      .click();
    const dialog = alertsPage.secretDialog();
    await expect(dialog).toBeVisible();
    const rotated = await dialog.getByLabel('Signing secret').inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    await expect(dialog).toBeHidden();
    await expect(alertsPage.notice('The signing secret was replaced.')).toBeVisible();

    await alertsPage.deleteRule(name);
    await expect(page).toHaveURL(/\/admin\/alerts$/);
    await expect(alertsPage.notice(`Rule “${name}” was deleted.`)).toBeVisible();
    await expect(alertsPage.row(name)).toHaveCount(0);
    expect(await api.alertRuleStatus(rule.id)).toBe(404);
  });
});
