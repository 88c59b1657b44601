import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent, Checkpoint, Verification } from '../../api';
import { makeEvent } from '../../test/fixtures';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { buildLog, eventAt, makeSigner, toHex, type TestLog, type TestSigner } from '../integrity/testProofs';
import { EntryIntegrity } from './EntryIntegrity';

const ORIGIN = 'acme.example/acme';

let signer: TestSigner;
let log: TestLog;

beforeAll(async () => {
  signer = await makeSigner(ORIGIN);
  log = await buildLog(5, signer);
});

/** The event the test log records at index 2 (id 506, sequence 3), as the API serves it. */
function loggedEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  const { id, seq, action } = eventAt(2);
  return makeEvent(id, { seq, action, module: 'customer', verb: 'created', hash: toHex(log.leafHashes[2]), ...overrides });
}

const checkpointOf = (treeSize: number): Checkpoint => ({
  origin: ORIGIN,
  tree_size: treeSize,
  root_hash: 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=',
  signed_at: '2026-11-20T12:00:30Z',
  note: 'not read here',
});

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
  checked_at: '2026-11-20T12:01:00Z',
};

const keyResponse = () => new Response(`${signer.verifierKey}\n`, { headers: { 'Content-Type': 'text/plain' } });

function renderEntry(event: AuditEvent, canVerify = false) {
  return renderWithProviders(<EntryIntegrity event={event} canVerify={canVerify} timeZone="UTC" />);
}

const checkpointLine = () => screen.getByTestId('entry-checkpoint');

describe('EntryIntegrity', () => {
  it("shows the entry's hashes and the signed checkpoint that includes it", async () => {
    stubApi({ '/api/v1/integrity/checkpoint': () => checkpointOf(3) });
    renderEntry(loggedEvent({ prev_hash: 'b'.repeat(64) }));
    expect(screen.getByText(toHex(log.leafHashes[2]))).toBeInTheDocument();
    expect(screen.getByText('b'.repeat(64))).toBeInTheDocument();
    expect(checkpointLine()).toHaveTextContent('Looking up the latest checkpoint…');
    await waitFor(() => expect(checkpointLine()).toHaveTextContent('Included in checkpoint 3, signed 20 Nov 2026, 12:00:30 UTC'));
  });

  it('says when the entry is not yet in a signed checkpoint, or nothing is signed yet', async () => {
    stubApi({ '/api/v1/integrity/checkpoint': () => checkpointOf(2) });
    const { unmount } = renderEntry(loggedEvent());
    await waitFor(() =>
      expect(checkpointLine()).toHaveTextContent(
        'Not yet in a signed checkpoint — one is signed within a minute of an event’s arrival.',
      ),
    );
    unmount();

    // The server's 404: no checkpoint yet.
    stubApi({ '/api/v1/integrity/checkpoint': () => problem(404, 'Not Found', 'nothing signed yet') });
    renderEntry(loggedEvent());
    await waitFor(() => expect(checkpointLine()).toHaveTextContent('Not yet in a signed checkpoint'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('looks again every 30 s until a signed checkpoint includes the entry, then stops', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      let size = 2;
      const requests = stubApi({ '/api/v1/integrity/checkpoint': () => checkpointOf(size) });
      const lookups = () => requests.filter((u) => u.pathname === '/api/v1/integrity/checkpoint').length;
      renderEntry(loggedEvent());
      await waitFor(() => expect(checkpointLine()).toHaveTextContent('Not yet in a signed checkpoint'));
      size = 3;
      await act(() => vi.advanceTimersByTimeAsync(30_000));
      await waitFor(() => expect(checkpointLine()).toHaveTextContent('Included in checkpoint 3'));
      expect(lookups()).toBe(2);
      await act(() => vi.advanceTimersByTimeAsync(90_000));
      expect(lookups()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says quietly when the checkpoint could not be loaded', async () => {
    stubApi({ '/api/v1/integrity/checkpoint': () => problem(503, 'Service Unavailable', 'database unavailable') });
    renderEntry(loggedEvent());
    await waitFor(() => expect(checkpointLine()).toHaveTextContent('Unknown: the latest checkpoint could not be loaded.'));
    expect(checkpointLine().querySelector('[title]')).toHaveAttribute('title', 'database unavailable');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it("checks the entry's inclusion proof in the browser with the public key", async () => {
    const requests = stubApi({
      '/api/v1/integrity/checkpoint': () => checkpointOf(5),
      '/api/v1/events/506/proof': () => log.proofOf(2),
      '/api/v1/integrity/public-key': keyResponse,
    });
    renderEntry(loggedEvent());
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      `Proven: included in checkpoint 5 (${ORIGIN}), signed 02 Jan 2026, 03:04:05 UTC; ` +
        `checked in this browser with the public key ${ORIGIN}+${signer.keyId}.`,
    );
    const proofRequest = requests.find((u) => u.pathname === '/api/v1/events/506/proof');
    expect(proofRequest?.search).toBe('');
  });

  it("proves a deleted entry's place in the log by its hash, and says its content is not proven", async () => {
    stubApi({
      '/api/v1/integrity/checkpoint': () => checkpointOf(5),
      '/api/v1/events/506/proof': async () => ({ ...(await log.proofOf(2)), leaf: null, salt: null }),
      '/api/v1/integrity/public-key': keyResponse,
    });
    const user = userEvent.setup();
    const { unmount } = renderEntry(loggedEvent({ deleted_at: '2026-11-21T09:00:00Z' }));
    await user.click(screen.getByRole('button', { name: 'Check the proof' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent('Proven: included in checkpoint 5');
    expect(status).toHaveTextContent('Its content was deleted: its place in the log (its leaf hash) is proven');
    unmount();

    // A tombstone whose shown hash is not the proven leaf hash is not vouched for.
    renderEntry(loggedEvent({ deleted_at: '2026-11-21T09:00:00Z', hash: toHex(log.leafHashes[3]) }));
    await user.click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('alert')).toHaveTextContent("Not proven: The proof's leaf hash is not this entry's hash.");
  });

  it('offers no verification of the whole log to non-admins', () => {
    stubApi({ '/api/v1/integrity/checkpoint': () => checkpointOf(5) });
    renderEntry(loggedEvent());
    expect(screen.queryByRole('button', { name: 'Verify the log' })).not.toBeInTheDocument();
  });

  it('verifies the log for admins and reports the checkpoints matched', async () => {
    const requests = stubApi({
      '/api/v1/integrity/checkpoint': () => checkpointOf(5),
      '/api/v1/integrity/verify': () => verified,
    });
    const { queryClient } = renderEntry(loggedEvent(), true);
    queryClient.setQueryData(['admin', 'integrity-status'], { latest_checkpoint: null, last_verification: null });
    expect(screen.getByText('Recomputes the log’s tree and checks it against every signed checkpoint.')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify the log' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Verified: the tree recomputed from the stored entries, this one (sequence 3) included, matches the signed checkpoints ' +
        '(12 signed checkpoints matched). 5,001 events checked at 20 Nov 2026, 12:01:00 UTC.',
    );
    expect(screen.queryByRole('button', { name: 'Verify the log' })).not.toBeInTheDocument();
    // The header's badge shows the same run, and the stored status is fetched again.
    expect(queryClient.getQueryData(['admin', 'integrity'])).toEqual(verified);
    expect(queryClient.getQueryState(['admin', 'integrity-status'])?.isInvalidated).toBe(true);
    expect(requests.filter((u) => u.pathname === '/api/v1/integrity/verify')).toHaveLength(1);
  });

  it('says when a verified entry is newer than the latest signed checkpoint', async () => {
    stubApi({
      '/api/v1/integrity/checkpoint': () => checkpointOf(2),
      '/api/v1/integrity/verify': () => ({ ...verified, checkpoint_size: 2, checkpoints_checked: 1 }),
    });
    renderEntry(loggedEvent(), true);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify the log' }));
    expect(await screen.findByRole('status')).toHaveTextContent(
      '(1 signed checkpoint matched); this entry (sequence 3) is newer than the latest one, so it is not signed yet.',
    );
  });

  it('says whether a broken log still vouches for the entry', async () => {
    let bad = 2;
    stubApi({
      '/api/v1/integrity/checkpoint': () => checkpointOf(5),
      '/api/v1/integrity/verify': () => ({ ...verified, ok: false, first_bad_seq: bad, reason: 'root differs' }),
    });
    const user = userEvent.setup();
    const { unmount } = renderEntry(loggedEvent(), true);
    await user.click(screen.getByRole('button', { name: 'Verify the log' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The log does not verify from sequence 2 (root differs): this entry cannot be vouched for.',
    );
    unmount();

    bad = 4;
    renderEntry(loggedEvent(), true);
    await user.click(screen.getByRole('button', { name: 'Verify the log' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The log does not verify from sequence 4 (root differs), after this entry: the tree up to it recomputes to the signed checkpoints',
    );
  });

  it('says when the verification could not run', async () => {
    stubApi({
      '/api/v1/integrity/checkpoint': () => checkpointOf(5),
      '/api/v1/integrity/verify': () => problem(403, 'Forbidden', 'admins only'),
    });
    renderEntry(loggedEvent(), true);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Verify the log' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('admins only');
    expect(screen.getByRole('button', { name: 'Verify the log' })).toBeEnabled();
  });
});
