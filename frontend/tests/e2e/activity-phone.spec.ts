import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';

/** How far the page itself scrolls sideways (0 when everything fits the screen's width). */
function pageOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test.describe('Activity log on a phone (390×844)', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('shows each event as a card and never scrolls the page sideways', async ({ page, activityPage, api }) => {
    await activityPage.goto();
    await expect(activityPage.cards).toBeVisible();
    await expect(activityPage.table).toHaveCount(0);
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds());

    const [first] = (await api.events()).items;
    const card = activityPage.row(first.id);
    await expect(card.locator('time')).toHaveAttribute('datetime', first.occurred_at);
    await expect(card).toContainText(first.actor.name);
    await expect(card).toContainText(first.description!);
    expect(await pageOverflow(page)).toBe(0);

    // Nor with the filters and the menu open, nor with a long filter applied.
    await activityPage.goto(`q=${'x'.repeat(80)}&module=invoice`);
    await page.getByRole('button', { name: /^Filters/ }).click();
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await pageOverflow(page)).toBe(0);
  });

  test('tapping a card opens its details; its checkbox only selects it', async ({ page, activityPage, api }) => {
    const [first, second] = await api.eventIds();
    await activityPage.goto();

    await activityPage.tapCard(first);
    await activityPage.modal.expectOpen(first);
    await expect(page).toHaveURL(new RegExp(`event=${first}`));
    await activityPage.modal.close();

    await activityPage
      .row(second)
      .getByRole('checkbox', { name: `Select activity ${second}` })
      .tap();
    await expect(activityPage.row(second).getByRole('checkbox')).toBeChecked();
    await expect(activityPage.modal.root).toBeHidden();
    await expect(activityPage.bulkActions()).toContainText('1 selected');

    // From the keyboard: the card's button, with Space as well as Enter.
    await activityPage.detailsButton(second).focus();
    await page.keyboard.press('Space');
    await activityPage.modal.expectOpen(second);
    await page.keyboard.press('Escape');
    await expect(activityPage.modal.root).toBeHidden();
    await expect(activityPage.detailsButton(second)).toBeFocused();
  });

  test('sorts the cards with a Sort choice', async ({ page, activityPage, api }) => {
    await activityPage.goto();
    const request = await activityPage.expectReload(() => page.getByLabel('Sort').selectOption({ label: 'User A–Z' }));
    expect(request.searchParams.get('sort')).toBe('actor');
    expect(request.searchParams.get('order')).toBe('asc');
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ sort: 'actor', order: 'asc' }));
  });

  test('the filters fold behind a Filters button that counts the applied ones', async ({ page, activityPage, api }) => {
    await activityPage.goto();
    const toggle = page.getByRole('button', { name: /^Filters/ });
    await expect(toggle).toHaveAccessibleName('Filters');
    await expect(activityPage.field('Type')).toBeHidden();

    await activityPage.goto('module=invoice&verb=sent&range=last_30_days');
    await expect(toggle).toHaveAccessibleName('Filters (3)');
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await expect(activityPage.field('Type')).toHaveValue('invoice');

    await activityPage.selectFlag('Any flag');
    await activityPage.apply();
    await expect(toggle).toHaveAccessibleName('Filters (4)');
    await expect
      .poll(() => activityPage.rowIds())
      .toEqual(await api.eventIds({ module: 'invoice', verb: 'sent', range: 'last_30_days', flag: 'any' }));
  });

  test('removes an applied filter with its chip', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=invoice&verb=sent');
    expect(await activityPage.chipTexts()).toEqual(['Type: Invoice', 'Event: Sent']);

    const request = await activityPage.removeChip('Type: Invoice');
    expect(request.searchParams.get('module')).toBeNull();
    expect(request.searchParams.get('verb')).toBe('sent');
    await expect(page).not.toHaveURL(/module=/);
    expect(await activityPage.chipTexts()).toEqual(['Event: Sent']);
    await expect(page.getByRole('button', { name: /^Filters/ })).toHaveAccessibleName('Filters (1)');
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ verb: 'sent' }));
  });

  test('the header folds into a menu with navigation, time zone and sign-out', async ({ page, header }) => {
    await page.goto('/');
    const menu = page.getByRole('button', { name: 'Menu' });
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
    await expect(page.getByRole('button', { name: 'Log out' })).toBeHidden();
    expect(await pageOverflow(page)).toBe(0);

    await menu.click();
    await expect(menu).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByRole('radiogroup', { name: 'Time zone' })).toBeVisible();
    await expect(header.currentUser()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security review' }).click();
    await expect(page).toHaveURL(/\/review$/);
    // Going somewhere closes the menu.
    await expect(menu).toHaveAttribute('aria-expanded', 'false');
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();

    await menu.click();
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Users' }).click();
    await expect(page).toHaveURL(/\/admin\/users$/);

    await menu.click();
    await page.keyboard.press('Escape');
    await expect(menu).toHaveAttribute('aria-expanded', 'false');
    await expect(menu).toBeFocused();
  });
});

test.describe('Activity log on a tablet (768×1024)', () => {
  test.use({ viewport: { width: 768, height: 1024 }, hasTouch: true });

  test('shows cards with the filters open and no sideways scrolling', async ({ page, activityPage, api }) => {
    await activityPage.goto('module=booking');
    await expect(activityPage.cards).toBeVisible();
    await expect.poll(() => activityPage.rowIds()).toEqual(await api.eventIds({ module: 'booking' }));
    await expect(activityPage.field('Type')).toBeVisible();
    await expect(page.getByRole('button', { name: /^Filters/ })).toBeHidden();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
    expect(await activityPage.chipTexts()).toEqual(['Type: Booking']);
    expect(await pageOverflow(page)).toBe(0);

    const [first] = await api.eventIds({ module: 'booking' });
    await activityPage.tapCard(first);
    await activityPage.modal.expectOpen(first);
  });
});
