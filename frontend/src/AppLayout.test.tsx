import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { AppLayout } from './AppLayout';
import { demoUser } from './test/fixtures';
import { renderWithProviders, stubApi } from './test/renderWithProviders';

describe('AppLayout navigation', () => {
  it('offers the security review to everyone, and its settings among the admin pages', () => {
    stubApi({ '/api/v1/integrity/status': () => ({ latest_checkpoint: null, last_verification: null }) });
    renderWithProviders(<AppLayout />);
    const main = screen.getByRole('navigation', { name: 'Main' });
    expect(within(main).getByRole('link', { name: 'Activity' })).toHaveAttribute('href', '/');
    expect(within(main).getByRole('link', { name: 'Security review' })).toHaveAttribute('href', '/review');
    const admin = screen.getByRole('navigation', { name: 'Administration' });
    expect(within(admin).getByRole('link', { name: 'Review settings' })).toHaveAttribute('href', '/admin/review');
    expect(within(admin).getByRole('link', { name: 'Alerts' })).toHaveAttribute('href', '/admin/alerts');
  });

  it('shows a member the security review but no admin pages', () => {
    stubApi({});
    renderWithProviders(<AppLayout />, { user: { ...demoUser, role: 'member', name: 'Max Member' } });
    expect(
      within(screen.getByRole('navigation', { name: 'Main' })).getByRole('link', { name: 'Security review' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Administration' })).toBeNull();
  });

  it('folds into a menu that closes on navigation and on Escape', async () => {
    stubApi({ '/api/v1/integrity/status': () => ({ latest_checkpoint: null, last_verification: null }) });
    const { router } = renderWithProviders(<AppLayout />, { url: '/?module=booking' });
    const user = userEvent.setup();
    const menu = screen.getByRole('button', { name: 'Menu' });
    expect(menu).toHaveAttribute('aria-expanded', 'false');
    expect(menu).toHaveAttribute('aria-controls', 'app-menu');
    const panel = document.getElementById('app-menu')!;
    for (const name of ['Main', 'Administration']) expect(within(panel).getByRole('navigation', { name })).toBeInTheDocument();
    expect(within(panel).getByRole('radiogroup', { name: 'Time zone' })).toBeInTheDocument();
    expect(within(panel).getByRole('button', { name: 'Log out' })).toBeInTheDocument();

    await user.click(menu);
    expect(menu).toHaveAttribute('aria-expanded', 'true');
    expect(screen.getByRole('banner')).toHaveAttribute('data-menu-open', 'true');
    await user.click(within(panel).getByRole('link', { name: 'Activity' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
    expect(menu).toHaveAttribute('aria-expanded', 'false');

    await user.click(menu);
    await user.keyboard('{Escape}');
    expect(menu).toHaveAttribute('aria-expanded', 'false');
    expect(menu).toHaveFocus();
  });
});
