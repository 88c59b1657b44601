import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from './support/fixtures';

const OUT = resolve('../docs/screenshots');

test.describe('documentation screenshots', () => {
  test.use({ viewport: { width: 1280, height: 800 } });
  test.beforeAll(() => mkdirSync(OUT, { recursive: true }));

  test('activity log, detail modal and record history', async ({ page, activityPage, historyPage, api }) => {
    await activityPage.goto();
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds());
    await page.screenshot({ path: `${OUT}/activity.png` });

    const updated =
      (await api.events({ module: 'booking', verb: 'updated' })).items.find((e) => e.changes.length > 1) ??
      (await api.events({ verb: 'updated' })).items[0];
    await activityPage.goto(`event=${updated.id}`);
    await activityPage.modal.expectOpen(updated.id);
    await page.screenshot({ path: `${OUT}/detail-modal.png` });
    // The same two screens as someone whose system is set to dark sees them.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${OUT}/detail-modal-dark.png` });
    await page.mouse.move(0, 0);
    await activityPage.goto();
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds());
    await page.screenshot({ path: `${OUT}/activity-dark.png` });
    await page.emulateMedia({ colorScheme: 'light' });

    const customer = updated.related.find((r) => r.type === 'customer') ?? updated.entity!;
    await historyPage.goto(customer.type, customer.id);
    const [first] = await historyPage.entryIds();
    await historyPage.expand(first);
    await page.screenshot({ path: `${OUT}/history.png` });
  });
});

test.describe('documentation screenshots on a phone and a tablet', () => {
  test.beforeAll(() => mkdirSync(OUT, { recursive: true }));

  test.describe('phone', () => {
    test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

    test('activity cards, filters open, details', async ({ page, activityPage, api }) => {
      await activityPage.goto('range=last_30_days&module=booking');
      await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ range: 'last_30_days', module: 'booking' }));
      await page.screenshot({ path: `${OUT}/phone-activity.png` });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: `${OUT}/phone-activity-dark.png` });
      await page.emulateMedia({ colorScheme: 'light' });

      await page.getByRole('button', { name: /^Filters/ }).click();
      await expect(activityPage.field('Type')).toBeVisible();
      await page.screenshot({ path: `${OUT}/phone-filters.png` });

      const [first] = await api.eventIds({ range: 'last_30_days', module: 'booking', verb: 'updated' });
      await activityPage.goto(`range=last_30_days&module=booking&event=${first}`);
      await activityPage.modal.expectOpen(first);
      await page.screenshot({ path: `${OUT}/phone-details.png` });
    });
  });

  test.describe('tablet', () => {
    test.use({ viewport: { width: 768, height: 1024 }, hasTouch: true });

    test('activity cards', async ({ page, activityPage, api }) => {
      await activityPage.goto('range=last_30_days');
      await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ range: 'last_30_days' }));
      await page.screenshot({ path: `${OUT}/tablet-activity.png` });
    });
  });
});
