import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Checkpoint, IntegrityStatus, Verification, VerificationRun } from '../../api';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { IntegrityPage } from './IntegrityPage';

const KEY = 'acme.example/acme+1a2b3c4d+AXW2cnVzdGVkIGtleSBieXRlcyBmb3IgdGVzdHMgb25seSE=';
const NOTE = 'acme.example/acme\n5001\nq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n\n\u2014 acme.example/acme GistTQ==\n';

const checkpoint: Checkpoint = {
  origin: 'acme.example/acme',
  tree_size: 5001,
  root_hash: 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=',
  signed_at: '2026-11-20T11:59:30Z',
  note: NOTE,
};

const run: VerificationRun = {
  ok: true,
  checked_at: new Date(Date.now() - 2 * 3_600_000).toISOString(),
  tree_size: 5001,
  events_checked: 5001,
  checkpoints_checked: 12,
  first_bad_seq: null,
  reason: null,
  trigger: 'schedule',
};

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

const status: IntegrityStatus = { latest_checkpoint: checkpoint, last_verification: run };
const keyResponse = () => new Response(`${KEY}\n`, { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
const section = (name: string) => screen.getByRole('region', { name });

describe('IntegrityPage', () => {
  it('shows loading states, then the last verification, the latest checkpoint and the public key', async () => {
    const requests = stubApi({ '/api/v1/integrity/status': () => status, '/api/v1/integrity/public-key': keyResponse });
    renderWithProviders(<IntegrityPage />);
    expect(screen.getByLabelText('Loading the last verification')).toHaveAttribute('aria-busy', 'true');
    expect(screen.getByLabelText('Loading the latest checkpoint')).toBeInTheDocument();
    expect(screen.getByLabelText('Loading the public key')).toBeInTheDocument();

    const last = await screen.findByRole('region', { name: 'Last verification' });
    expect(await within(last).findByText('Verified.')).toBeInTheDocument();
    expect(last).toHaveTextContent('(2 h ago)');
    expect(last).toHaveTextContent('TriggerDaily schedule');
    expect(last).toHaveTextContent('Events checked5,001');
    expect(last).toHaveTextContent('Checkpoints matched12');
    expect(screen.getByText('Verified 2 h ago · 5,001 events')).toBeInTheDocument();

    const latest = section('Latest signed checkpoint');
    expect(latest).toHaveTextContent('Tree size5,001 events (sequences 1–5001)');
    // The business zone (Europe/London) is UTC in November.
    expect(latest).toHaveTextContent('Signed at20 Nov 2026, 11:59:30 GMT');
    expect(latest).toHaveTextContent('Originacme.example/acme');
    expect(within(latest).getByTestId('checkpoint-note').textContent).toBe(NOTE);

    expect(await within(section('Public key')).findByTestId('public-key')).toHaveTextContent(KEY);
    expect(within(section('Verification result')).getByText('Not yet checked in this session')).toBeInTheDocument();
    // Nothing is verified by merely opening the page.
    expect(requests.some((u) => u.pathname === '/api/v1/integrity/verify')).toBe(false);
  });

  it('copies the signed note and the public key as they are', async () => {
    stubApi({ '/api/v1/integrity/status': () => status, '/api/v1/integrity/public-key': keyResponse });
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue();
    renderWithProviders(<IntegrityPage />);
    await user.click(
      await within(await screen.findByRole('region', { name: 'Latest signed checkpoint' })).findByRole('button', {
        name: 'Copy the note',
      }),
    );
    expect(writeText).toHaveBeenLastCalledWith(NOTE);
    expect(within(section('Latest signed checkpoint')).getByText('Copied to the clipboard.')).toBeInTheDocument();
    await user.click(await within(section('Public key')).findByRole('button', { name: 'Copy the key' }));
    expect(writeText).toHaveBeenLastCalledWith(KEY);
  });

  it('says when nothing is signed or verified yet', async () => {
    stubApi({
      '/api/v1/integrity/status': () => ({ latest_checkpoint: null, last_verification: null }),
      '/api/v1/integrity/public-key': keyResponse,
    });
    renderWithProviders(<IntegrityPage />);
    expect(await screen.findByText('No verification has run yet')).toBeInTheDocument();
    expect(within(section('Latest signed checkpoint')).getByText('Nothing signed yet')).toBeInTheDocument();
    expect(screen.getByText('Not verified yet')).toBeInTheDocument();
  });

  it('shows a stored broken run with its reason', async () => {
    stubApi({
      '/api/v1/integrity/status': () => ({
        ...status,
        last_verification: {
          ...run,
          ok: false,
          first_bad_seq: 17,
          reason: 'root differs from checkpoint 20',
          trigger: 'command',
        },
      }),
      '/api/v1/integrity/public-key': keyResponse,
    });
    renderWithProviders(<IntegrityPage />);
    const last = await screen.findByRole('region', { name: 'Last verification' });
    expect(await within(last).findByText('Broken at sequence 17.')).toBeInTheDocument();
    expect(last).toHaveTextContent('Reasonroot differs from checkpoint 20');
    expect(last).toHaveTextContent('TriggerCommand line (auditlog verify)');
  });

  it('offers a retry when the status or the key could not be loaded', async () => {
    let fail = true;
    stubApi({
      '/api/v1/integrity/status': () => (fail ? problem(503, 'Service Unavailable', 'database unavailable') : status),
      '/api/v1/integrity/public-key': () => (fail ? problem(500, 'Internal Server Error', 'no signing key') : keyResponse()),
    });
    const user = userEvent.setup();
    renderWithProviders(<IntegrityPage />);
    const statusError = await screen.findByText('The integrity status could not be loaded');
    expect(screen.getByText('database unavailable')).toBeInTheDocument();
    expect(await within(section('Public key')).findByRole('alert')).toHaveTextContent(
      'The public key could not be loadedno signing key',
    );
    fail = false;
    await user.click(within(statusError.parentElement!).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('region', { name: 'Last verification' })).toBeInTheDocument();
    await user.click(within(section('Public key')).getByRole('button', { name: 'Retry' }));
    expect(await within(section('Public key')).findByTestId('public-key')).toHaveTextContent(KEY);
  });

  it('"Verify now" shows the full result with the checkpoints matched, and refreshes the stored status', async () => {
    const requests = stubApi({
      '/api/v1/integrity/status': () => status,
      '/api/v1/integrity/public-key': keyResponse,
      '/api/v1/integrity/verify': () => verified,
    });
    renderWithProviders(<IntegrityPage />);
    await screen.findByRole('region', { name: 'Last verification' });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    const result = section('Verification result');
    expect(await within(result).findByText(/^Verified: every entry matches its hash/)).toBeInTheDocument();
    expect(result).toHaveTextContent('Checkpoints matched12');
    expect(result).toHaveTextContent('Latest checkpoint5,001 events');
    expect(result).toHaveTextContent('Retention boundaryNothing archived');
    await waitFor(() => expect(requests.filter((u) => u.pathname === '/api/v1/integrity/status')).toHaveLength(2));
  });

  it('says when the verification could not run', async () => {
    stubApi({
      '/api/v1/integrity/status': () => status,
      '/api/v1/integrity/public-key': keyResponse,
      '/api/v1/integrity/verify': () => problem(503, 'Service Unavailable', 'database unavailable'),
    });
    renderWithProviders(<IntegrityPage />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify now' }));
    expect(await within(section('Verification result')).findByRole('alert')).toHaveTextContent(
      'The log could not be verifieddatabase unavailable',
    );
  });
});
