import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { IntegrityBadge } from './IntegrityBadge';

const verified = {
  ok: true,
  events_checked: 5001,
  head_seq: 5001,
  head_hash: 'a'.repeat(64),
  first_bad_seq: null,
  reason: null,
  checkpoint_seq: 0,
  checked_at: '2026-11-20T12:00:00Z',
};

describe('IntegrityBadge', () => {
  it('says "not yet checked" and verifies nothing until asked', async () => {
    const requests = stubApi({ '/api/v1/integrity/verify': () => verified });
    renderWithProviders(<IntegrityBadge />);
    expect(screen.getByTestId('integrity-status')).toHaveTextContent('Integrity not yet checked');
    expect(requests).toHaveLength(0);
  });

  it('shows "verified" with the time and the number of events checked', async () => {
    stubApi({ '/api/v1/integrity/verify': () => verified });
    renderWithProviders(<IntegrityBadge />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await screen.findByText('Integrity verified')).toBeInTheDocument();
    // The business zone (Europe/London) is UTC in November.
    expect(screen.getByTestId('integrity-status')).toHaveTextContent('5,001 events · 20 Nov 2026, 12:00:00');
  });

  it('names the first bad sequence and the reason of a broken chain', async () => {
    stubApi({
      '/api/v1/integrity/verify': () => ({ ...verified, ok: false, first_bad_seq: 42, reason: 'hash mismatch' }),
    });
    const { queryClient } = renderWithProviders(<IntegrityBadge />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await screen.findByText('Broken at seq 42')).toBeInTheDocument();
    expect(screen.getByTestId('integrity-status')).toHaveTextContent('hash mismatch');
    // Kept in the query cache for every other view of it.
    expect(queryClient.getQueryData(['admin', 'integrity'])).toMatchObject({ first_bad_seq: 42 });
  });

  it('says when verification itself failed', async () => {
    stubApi({ '/api/v1/integrity/verify': () => problem(403, 'Forbidden', 'admins only') });
    renderWithProviders(<IntegrityBadge />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await screen.findByText(/Verification failed: admins only/)).toBeInTheDocument();
  });
});
