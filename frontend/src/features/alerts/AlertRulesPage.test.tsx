import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { makeAlertRule, makeDelivery } from '../../test/fixtures';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { AlertRulesPage } from './AlertRulesPage';

const row = (name: string) => screen.getByRole('link', { name }).closest('tr')!;

describe('AlertRulesPage', () => {
  it('lists each rule with its filter, destination, status and last delivery, and tags digests', async () => {
    stubApi({
      '/api/v1/alerts/rules': () => ({
        items: [
          makeAlertRule({ id: 1, name: 'Flagged bookings', recent_deliveries: [makeDelivery(3, { status: 'failed' })] }),
          makeAlertRule({
            id: 2,
            name: 'Security digest',
            filter: '',
            destination: { type: 'email', to: ['sec@example.com', 'ops@example.com'] },
            paused: true,
            schedule: 'daily',
          }),
          makeAlertRule({
            id: 3,
            name: 'SIEM',
            disabled_at: '2026-11-21T10:00:00Z',
            disabled_reason: 'no delivery succeeded for 24 hours; last error: the receiver answered 503',
          }),
        ],
      }),
    });
    renderWithProviders(<AlertRulesPage />);
    expect(screen.getByLabelText('Loading alert rules')).toHaveAttribute('aria-busy', 'true');

    await screen.findByRole('link', { name: 'Flagged bookings' });
    const flagged = within(row('Flagged bookings'));
    expect(screen.getByRole('link', { name: 'Flagged bookings' })).toHaveAttribute('href', '/admin/alerts/1');
    expect(flagged.getByRole('list', { name: 'Filter of Flagged bookings' })).toHaveTextContent('Flagged: Any flagType: Booking');
    expect(row('Flagged bookings')).toHaveTextContent('Webhook https://hooks.example.com/in (NDJSON, 1 header)');
    expect(row('Flagged bookings')).toHaveTextContent('Active');
    expect(row('Flagged bookings')).toHaveTextContent('Failed');
    expect(row('Flagged bookings')).not.toHaveTextContent(/Daily digest|Weekly digest/);

    expect(row('Security digest')).toHaveTextContent('Every event');
    expect(row('Security digest')).toHaveTextContent('E-mail sec@example.com (+1 more)');
    expect(row('Security digest')).toHaveTextContent('Paused');
    expect(row('Security digest')).toHaveTextContent('None yet');
    expect(within(row('Security digest')).getByText('Daily digest')).toHaveClass('badge');

    expect(row('SIEM')).toHaveTextContent('Disabled');
    expect(row('SIEM')).toHaveTextContent('the receiver answered 503');
    expect(screen.getByRole('link', { name: 'New rule' })).toHaveAttribute('href', '/admin/alerts/new');
  });

  it('says when there are no rules yet', async () => {
    stubApi({ '/api/v1/alerts/rules': () => ({ items: [] }) });
    renderWithProviders(<AlertRulesPage />);
    expect(await screen.findByText('No alert rules yet')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Create the first rule' })).toHaveAttribute('href', '/admin/alerts/new');
  });

  it('offers to retry when the rules cannot be loaded', async () => {
    stubApi({ '/api/v1/alerts/rules': () => problem(403, 'Forbidden', 'admins only') });
    renderWithProviders(<AlertRulesPage />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The alert rules could not be loaded');
    expect(alert).toHaveTextContent('admins only');
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });
});
