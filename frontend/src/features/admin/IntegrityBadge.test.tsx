import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { IntegrityStatus, Verification, VerificationRun } from '../../api';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { IntegrityBadge } from './IntegrityBadge';

const HOUR = 3_600_000;
const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR).toISOString();

const verified: Verification = {
  ok: true,
  events_checked: 5001,
  checkpoints_checked: 12,
  checkpoint_size: 5001,
  head_seq: 5001,
  head_hash: 'a'.repeat(64),
  first_bad_seq: null,
  reason: null,
  checkpoint_seq: 0,
  checked_at: '2026-11-20T12:00:00Z',
};

const storedRun: VerificationRun = {
  ok: true,
  checked_at: hoursAgo(3),
  tree_size: 4990,
  events_checked: 4990,
  checkpoints_checked: 11,
  first_bad_seq: null,
  reason: null,
  trigger: 'schedule',
};

const statusOf = (last_verification: VerificationRun | null = null): IntegrityStatus => ({
  last_verification,
  latest_checkpoint: null,
});

const badge = () => screen.getByTestId('integrity-status');
const pathsOf = (requests: URL[], path: string) => requests.filter((u) => u.pathname === path);

describe('IntegrityBadge', () => {
  it('says "Not verified yet" when no run is stored, and verifies nothing until asked', async () => {
    const requests = stubApi({
      '/api/v1/integrity/status': () => statusOf(),
      '/api/v1/integrity/verify': () => verified,
    });
    renderWithProviders(<IntegrityBadge />);
    expect(await screen.findByText('Not verified yet')).toBeInTheDocument();
    expect(pathsOf(requests, '/api/v1/integrity/verify')).toHaveLength(0);
  });

  it('shows the stored last verification and how long ago it ran', async () => {
    stubApi({ '/api/v1/integrity/status': () => statusOf(storedRun) });
    renderWithProviders(<IntegrityBadge />);
    expect(await screen.findByText('Verified 3 h ago · 4,990 events')).toBeInTheDocument();
    expect(badge()).toHaveTextContent('11 checkpoints matched');
    // The exact time is at hand, in the business zone.
    expect(screen.getByText('Verified 3 h ago · 4,990 events')).toHaveAttribute('title', expect.stringMatching(/^Checked /));
  });

  it('shows a stored broken run with its first bad sequence and reason', async () => {
    stubApi({
      '/api/v1/integrity/status': () =>
        statusOf({ ...storedRun, ok: false, first_bad_seq: 17, reason: 'root differs', checked_at: hoursAgo(50) }),
    });
    renderWithProviders(<IntegrityBadge />);
    expect(await screen.findByText('Verification failed at #17 · 2 d ago')).toBeInTheDocument();
    expect(badge()).toHaveTextContent('root differs');
  });

  it('"Verify now" runs the verification, then fetches the stored status again', async () => {
    let run: VerificationRun | null = null;
    const requests = stubApi({
      '/api/v1/integrity/status': () => statusOf(run),
      '/api/v1/integrity/verify': () => {
        const checked_at = new Date().toISOString();
        run = { ...storedRun, checked_at, trigger: 'request', events_checked: 5001, checkpoints_checked: 12 };
        return { ...verified, checked_at };
      },
    });
    renderWithProviders(<IntegrityBadge />);
    expect(await screen.findByText('Not verified yet')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await screen.findByText('Verified just now · 5,001 events')).toBeInTheDocument();
    expect(badge()).toHaveTextContent('12 checkpoints matched');
    await waitFor(() => expect(pathsOf(requests, '/api/v1/integrity/status')).toHaveLength(2));
    expect(pathsOf(requests, '/api/v1/integrity/verify')).toHaveLength(1);
  });

  it("prefers this session's check to an older stored run", async () => {
    stubApi({
      '/api/v1/integrity/status': () => statusOf({ ...storedRun, checked_at: hoursAgo(30) }),
      '/api/v1/integrity/verify': () => ({
        ...verified,
        ok: false,
        first_bad_seq: 42,
        reason: 'hash mismatch',
        checked_at: hoursAgo(0),
      }),
    });
    const { queryClient } = renderWithProviders(<IntegrityBadge />);
    expect(await screen.findByText('Verified 1 d ago · 4,990 events')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await screen.findByText('Verification failed at #42 · just now')).toBeInTheDocument();
    expect(badge()).toHaveTextContent('hash mismatch');
    // Kept in the query cache for every other view of it.
    expect(queryClient.getQueryData(['admin', 'integrity'])).toMatchObject({ first_bad_seq: 42 });
  });

  it('says when verification itself failed', async () => {
    stubApi({
      '/api/v1/integrity/status': () => statusOf(),
      '/api/v1/integrity/verify': () => problem(403, 'Forbidden', 'admins only'),
    });
    renderWithProviders(<IntegrityBadge />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await screen.findByText(/Verification failed: admins only/)).toBeInTheDocument();
  });

  it('says when the stored status could not be loaded, rather than "Not verified yet"', async () => {
    stubApi({ '/api/v1/integrity/status': () => problem(503, 'Service Unavailable', 'database unavailable') });
    renderWithProviders(<IntegrityBadge />);
    expect(await screen.findByText('Integrity status unavailable')).toHaveAttribute('title', 'database unavailable');
    expect(badge()).not.toHaveTextContent('Not verified yet');
  });
});
