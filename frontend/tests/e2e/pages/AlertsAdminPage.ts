import { expect, type Locator, type Page } from '@playwright/test';

/** The alert rules: their list (`/admin/alerts`), the rule form, a rule's page and its deliveries. */
export class AlertsAdminPage {
  readonly table: Locator;
  readonly form: Locator;
  readonly deliveries: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.table = page.getByTestId('alert-rules-table');
    this.form = page.getByRole('form', { name: 'Alert rule' });
    this.deliveries = page.getByTestId('deliveries-table');
  }

  async goto() {
    await this.page.goto('/admin/alerts');
    await this.waitForList();
  }

  async waitForList() {
    await expect(this.page.getByRole('heading', { name: 'Alerts', level: 1 })).toBeVisible();
    await expect(this.table.or(this.page.getByText('No alert rules yet'))).toBeVisible();
  }

  async gotoRule(id: number) {
    await this.page.goto(`/admin/alerts/${id}`);
    await expect(this.form).toBeVisible();
  }

  row(name: string): Locator {
    return this.table.locator(`tbody tr[data-rule-name="${name}"]`);
  }

  readonly field = (label: string) => this.form.getByLabel(label, { exact: true });
  readonly paused = () => this.form.getByRole('checkbox', { name: 'Paused: match no events until resumed' });
  /** The choice of what the rule sends: each matching event (an alert), or a digest. */
  readonly sends = (label: 'Each matching event' | 'Daily digest' | 'Weekly digest') =>
    this.form.getByRole('radiogroup', { name: 'What it sends' }).getByRole('radio', { name: label });
  readonly secretDialog = () => this.page.getByTestId('rule-secret');
  readonly heading = () => this.page.getByRole('heading', { level: 1 });
  /** A notice on the page (saved, deleted, sent again). */
  readonly notice = (text: string | RegExp) => this.page.getByRole('main').getByRole('status').filter({ hasText: text });

  /** The rule id of the rule page that is open. */
  ruleId(): number {
    const match = /\/admin\/alerts\/(\d+)$/.exec(new URL(this.page.url()).pathname);
    if (!match) throw new Error(`Not on a rule's page: ${this.page.url()}`);
    return Number(match[1]);
  }

  /** Fills the form for a webhook rule (on the new rule page or a rule's page). */
  async fillWebhookRule(rule: { name: string; filter: string; url: string }) {
    await this.field('Name').fill(rule.name);
    await this.field('Filter').fill(rule.filter);
    await this.form.getByRole('radio', { name: 'Webhook' }).check();
    await this.field('Webhook URL').fill(rule.url);
  }

  async submit(label: 'Create rule' | 'Save changes') {
    await this.form.getByRole('button', { name: label }).click();
  }

  /** Opens the rule's delete confirmation and confirms it. */
  async deleteRule(name: string) {
    await this.page.getByRole('button', { name: 'Delete rule…' }).click();
    const dialog = this.page.getByRole('dialog', { name: `Delete “${name}”?` });
    await dialog.getByRole('button', { name: 'Delete rule' }).click();
    await expect(dialog).toBeHidden();
  }

  deliveryRow(messageId: string): Locator {
    return this.deliveries.locator(`tbody tr[data-message-id="${messageId}"]`);
  }

  /** Refreshes the deliveries until one has `status`; returns its row. */
  async waitForDelivery(status: 'pending' | 'delivered' | 'failed'): Promise<Locator> {
    const row = this.deliveries.locator(`tbody tr[data-status="${status}"]`).first();
    await expect(async () => {
      await this.page.getByRole('button', { name: 'Refresh' }).click();
      await expect(row).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 15_000 });
    return row;
  }
}
