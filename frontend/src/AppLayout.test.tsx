import { screen, within } from '@testing-library/react';
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
});
