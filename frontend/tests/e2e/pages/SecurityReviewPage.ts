import { expect, type Locator, type Page, type Response } from '@playwright/test';

const isFlagSummary = (response: Response) => new URL(response.url()).pathname === '/api/v1/stats/flags';

/** The security review: flagged events by kind for a period, each kind linking to the list. */
export class SecurityReviewPage {
  readonly summary: Locator;
  readonly period: Locator;
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
    this.summary = page.getByTestId('review-summary');
    this.period = page.getByRole('combobox', { name: 'Period' });
  }

  async goto(search = '') {
    await Promise.all([this.page.waitForResponse(isFlagSummary), this.page.goto(`/review${search ? `?${search}` : ''}`)]);
    await this.waitForSettled();
  }

  async waitForSettled() {
    await expect(this.page.getByRole('heading', { name: 'Security review', level: 1 })).toBeVisible();
    await expect(this.summary).toHaveAttribute('aria-busy', 'false');
    await expect(this.groups().or(this.page.getByText('No flagged events in this period'))).toBeVisible();
  }

  async selectPeriod(label: string) {
    await Promise.all([this.page.waitForResponse(isFlagSummary), this.period.selectOption({ label })]);
    await this.waitForSettled();
  }

  groups(): Locator {
    return this.page.getByRole('list', { name: 'Flags by kind' });
  }

  group(kind: string): Locator {
    return this.groups().locator(`li[data-flag-kind="${kind}"]`);
  }

  count(kind: string): Locator {
    return this.group(kind).getByTestId('flag-count');
  }

  total(): Locator {
    return this.page.getByTestId('flag-total');
  }

  /** Opens the activity list from a kind's group (its title is the link). */
  async open(kind: string) {
    await this.group(kind).getByRole('heading').getByRole('link').click();
  }
}
