import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { BADGE_TONES } from '../../src/components/badgeTones';
import { AA_TEXT, contrastRatio } from '../../src/components/contrast';
import { MEMBER } from './support/constants';
import { expect, test } from './support/fixtures';

type Scheme = 'light' | 'dark';
const SCHEMES: Scheme[] = ['light', 'dark'];
const RULE_PREFIX = 'a11y ';
/** The axe rules whose outcome depends on the colour scheme. */
const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];
/** Target nodes listed per violation; the rest are counted. */
const MAX_NODES = 20;

interface RenderedBadge {
  tone: string;
  text: string;
  color: string;
  background: string;
}

/**
 * Every toned badge in the page: its tone, text, and the colours the browser computed for it. (A
 * badge without a tone has no fill of its own: axe checks its text against what is behind it.)
 */
function renderedBadges(page: Page): Promise<RenderedBadge[]> {
  return page.locator('.badge[class*="badge--"]').evaluateAll((badges) =>
    badges.map((badge) => {
      const style = getComputedStyle(badge);
      const tone =
        Array.from(badge.classList)
          .find((c) => c.startsWith('badge--'))
          ?.slice('badge--'.length) ?? '(none)';
      return { tone, text: badge.textContent?.trim() ?? '', color: style.color, background: style.backgroundColor };
    }),
  );
}

/**
 * Checks screens as they stand, in the light and in the dark scheme: axe's serious and critical
 * violations, and the computed contrast of every badge shown. Problems are gathered, so one run
 * names all of them, and asserted by `expectNone`.
 */
class Audit {
  readonly problems: string[] = [];
  readonly tonesSeen: Record<Scheme, Set<string>> = { light: new Set(), dark: new Set() };
  private readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  async check(screen: string) {
    const backgrounds: string[] = [];
    for (const scheme of SCHEMES) {
      await this.page.emulateMedia({ colorScheme: scheme });
      const { dark, background } = await this.page.evaluate(() => ({
        dark: matchMedia('(prefers-color-scheme: dark)').matches,
        background: getComputedStyle(document.documentElement).backgroundColor,
      }));
      expect(dark, `${screen}: the page sees the ${scheme} scheme`).toBe(scheme === 'dark');
      backgrounds.push(background);
      // The schemes differ in colour alone: the dark pass runs the rules that read colours.
      const axe = new AxeBuilder({ page: this.page });
      const results = await (scheme === 'light' ? axe : axe.withRules(COLOUR_RULES)).analyze();
      for (const violation of results.violations) {
        if (violation.impact !== 'serious' && violation.impact !== 'critical') continue;
        const listed = violation.nodes.slice(0, MAX_NODES).map((node) => `      ${node.target.join(' ')}`);
        if (violation.nodes.length > MAX_NODES) listed.push(`      … and ${violation.nodes.length - MAX_NODES} more`);
        const nodes = listed.join('\n');
        this.problems.push(`${screen} [${scheme}] ${violation.id} (${violation.impact}): ${violation.help}\n${nodes}`);
      }
      for (const badge of await renderedBadges(this.page)) {
        this.tonesSeen[scheme].add(badge.tone);
        const ratio = contrastRatio(badge.color, badge.background);
        if (ratio < AA_TEXT) {
          this.problems.push(
            `${screen} [${scheme}] badge "${badge.text}" (${badge.tone}): ${badge.color} on ${badge.background} is ${ratio.toFixed(2)}:1`,
          );
        }
      }
    }
    expect(new Set(backgrounds).size, `${screen}: the dark scheme has a page colour of its own`).toBe(SCHEMES.length);
    await this.page.emulateMedia({ colorScheme: 'light' });
  }

  expectNone() {
    expect(this.problems, `accessibility problems:\n${this.problems.join('\n')}`).toEqual([]);
  }
}

test.describe('accessibility (axe, light and dark)', () => {
  // One context per role walks every screen it may see, so each page is loaded once.
  test.describe.configure({ timeout: 240_000 });

  test('every screen an admin sees', async ({
    page,
    api,
    activityPage,
    historyPage,
    header,
    alertsPage,
    tokensPage,
    usersPage,
    reviewPage,
    retentionPage,
    reviewSettingsPage,
    fieldVisibilityPage,
    recordLinksPage,
  }) => {
    const audit = new Audit(page);
    await api.deleteAlertRules(RULE_PREFIX);
    const { rule } = await api.createAlertRule({
      name: `${RULE_PREFIX}failed logins`,
      filter: 'verb=login_failed',
      destination: { type: 'webhook', url: 'http://127.0.0.1:9/never' },
    });

    try {
      await activityPage.goto();
      await audit.check('activity list');

      const [event] = (await api.events({ verb: 'updated' })).items;
      await activityPage.goto(`event=${event.id}`);
      await activityPage.modal.expectOpen(event.id);
      await audit.check('event details');

      await activityPage.modal.close();
      await activityPage
        .bulkActions()
        .getByRole('button', { name: /^Export/ })
        .first()
        .click();
      const exportDialog = page.getByRole('dialog', { name: /Export/ });
      await expect(exportDialog).toBeVisible();
      await audit.check('export dialog');
      await exportDialog.getByRole('button', { name: 'Close' }).click();

      await header.openChangePassword();
      await audit.check('change password dialog');
      await header.passwordDialog().getByRole('button', { name: 'Close' }).click();

      const record = event.entity ?? event.related[0];
      await historyPage.goto(record.type, record.id);
      const [first] = await historyPage.entryIds();
      await historyPage.expand(first);
      await audit.check('record history');

      await reviewPage.goto();
      await audit.check('security review');

      await usersPage.goto();
      await audit.check('users');
      await page.getByRole('button', { name: 'Add user' }).click();
      await expect(usersPage.addDialog()).toBeVisible();
      await audit.check('add user dialog');
      await usersPage.addDialog().getByRole('button', { name: 'Close' }).click();

      await tokensPage.goto();
      await audit.check('API tokens');
      await page.getByRole('button', { name: 'New token' }).click();
      await expect(page.getByRole('dialog', { name: 'New API token' })).toBeVisible();
      await audit.check('new API token dialog');
      await page.getByRole('dialog', { name: 'New API token' }).getByRole('button', { name: 'Close' }).click();

      await retentionPage.goto();
      await audit.check('retention & archives');

      await page.goto('/admin/integrity');
      await expect(page.getByRole('heading', { name: 'Integrity', level: 1 })).toBeVisible();
      await header.verifyNow();
      await expect(page.getByRole('region', { name: 'Verification result' })).toBeVisible();
      await audit.check('integrity');

      await alertsPage.goto();
      await expect(alertsPage.row(rule.name)).toBeVisible();
      await audit.check('alert rules');
      await page.goto('/admin/alerts/new');
      await expect(alertsPage.form).toBeVisible();
      await audit.check('new alert rule');
      await alertsPage.gotoRule(rule.id);
      await audit.check('alert rule');

      await reviewSettingsPage.goto();
      await audit.check('review settings');
      await fieldVisibilityPage.goto();
      await audit.check('field visibility');
      await recordLinksPage.goto();
      await audit.check('record links');

      // Badges in every tone, drawn with the page's own stylesheet, so a tone no screen shows
      // right now is held to the same contrast.
      await page.getByRole('main').evaluate((main, tones) => {
        const probe = document.createElement('p');
        probe.id = 'tone-probe';
        for (const tone of tones) {
          const badge = document.createElement('span');
          badge.className = `badge badge--${tone}`;
          badge.textContent = tone;
          probe.append(badge);
        }
        main.append(probe);
      }, BADGE_TONES);
      await audit.check('every badge tone');
      await page.locator('#tone-probe').evaluate((probe) => probe.remove());
    } finally {
      await api.deleteAlertRules(RULE_PREFIX);
    }

    for (const scheme of SCHEMES) expect([...audit.tonesSeen[scheme]].sort()).toEqual([...BADGE_TONES].sort());
    audit.expectNone();
  });

  test.describe('as a member', () => {
    test.use({ storageState: { cookies: [], origins: [] } });

    test('every screen a member may see, and the refusal of an admin page', async ({
      page,
      loginPage,
      activityPage,
      historyPage,
      header,
      reviewPage,
    }) => {
      const audit = new Audit(page);
      await loginPage.goto();
      await audit.check('sign-in');

      await loginPage.login(MEMBER.email, MEMBER.password);
      await activityPage.waitForSettled();
      await expect(header.currentRole()).toHaveText('Member');
      await audit.check('activity list (member)');

      // An event of the member's own that names a record, for its details and the record's history.
      const withRecord = activityPage.table
        .locator('tbody tr[data-event-id]')
        .filter({ has: page.locator('a[href^="/records/"]') });
      const id = Number(await withRecord.first().getAttribute('data-event-id'));
      expect(id, 'the demo member has activity on a record').toBeGreaterThan(0);
      await activityPage
        .row(id)
        .getByRole('button', { name: `Details of activity ${id}` })
        .click();
      const details = page.getByRole('dialog', { name: `Activity #${id}` });
      await expect(details.getByText('Affected record')).toBeVisible();
      await audit.check('event details (member)');

      const recordPath = await activityPage.modal.root.locator('a[href^="/records/"]').first().getAttribute('href');
      expect(recordPath, 'the event names a record').toBeTruthy();
      await activityPage.modal.close();

      await header.openChangePassword();
      await audit.check('change password dialog (member)');
      await header.passwordDialog().getByRole('button', { name: 'Close' }).click();

      await reviewPage.goto();
      await audit.check('security review (member)');

      await page.goto(recordPath!);
      await historyPage.waitForLoaded();
      await audit.check('record history (member)');

      await page.goto('/admin/users');
      await expect(page.getByRole('heading', { name: 'Admins only', level: 1 })).toBeVisible();
      await expect(page.getByRole('status')).toContainText('This page is for admins only');
      await expect(header.adminNav()).toHaveCount(0);
      await audit.check('admin page refused (member)');

      audit.expectNone();
    });
  });
});
