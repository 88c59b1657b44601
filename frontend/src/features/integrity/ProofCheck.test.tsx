import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api';
import { createTestQueryClient, renderWithProviders } from '../../test/renderWithProviders';
import type { EventProof } from './proof';
import { ProofCheck } from './ProofCheck';
import { buildLog, eventAt, makeSigner, type TestLog, type TestSigner } from './testProofs';

const ORIGIN = 'activity.example/log';

let signer: TestSigner;
let log: TestLog;

beforeAll(async () => {
  signer = await makeSigner(ORIGIN);
  log = await buildLog(5, signer);
});

function renderCheck(proof: () => Promise<unknown>, index = 2) {
  const fetchProof = vi.fn(proof);
  const fetchKey = vi.fn(async () => `${signer.verifierKey}\n`);
  const utils = renderWithProviders(
    <ProofCheck event={eventAt(index)} fetchProof={fetchProof} fetchKey={fetchKey} timeZone="UTC" />,
  );
  return { ...utils, fetchProof, fetchKey };
}

describe('ProofCheck', () => {
  it('fetches nothing until asked', () => {
    const { fetchProof, fetchKey } = renderCheck(() => log.proofOf(2));
    expect(screen.getByRole('button', { name: 'Check the proof' })).toBeEnabled();
    expect(fetchProof).not.toHaveBeenCalled();
    expect(fetchKey).not.toHaveBeenCalled();
  });

  it('shows the check under way, then announces the proven inclusion', async () => {
    let answer: (proof: EventProof) => void = () => {};
    const pending = new Promise<EventProof>((resolve) => (answer = resolve));
    renderCheck(() => pending);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(screen.getByRole('button', { name: 'Checking…' })).toBeDisabled();

    answer(await log.proofOf(2));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(
      `Proven: included in checkpoint 5 (${ORIGIN}), signed 02 Jan 2026, 03:04:05 UTC; ` +
        `checked in this browser with the public key ${ORIGIN}+${signer.keyId}.`,
    );
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
    expect(status).not.toHaveTextContent('deleted');
  });

  it('says that only the place in the log is proven for a deleted entry', async () => {
    renderCheck(async () => ({ ...(await log.proofOf(2)), leaf: null }));
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check the proof' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(`Proven: included in checkpoint 5 (${ORIGIN})`);
    expect(status).toHaveTextContent(
      'Its content was deleted: its place in the log (its leaf hash) is proven, not what it recorded.',
    );
  });

  it('says why a proof fails, and can check again', async () => {
    const proof = await log.proofOf(2);
    const tampered = { ...proof, proof: [proof.proof[1], proof.proof[0], ...proof.proof.slice(2)] };
    const { fetchProof } = renderCheck(async () => tampered);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Not proven: The proof does not lead to the signed root.');
    expect(screen.queryByRole('status')).not.toBeInTheDocument();

    fetchProof.mockImplementation(() => log.proofOf(2));
    await user.click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Proven: included in checkpoint 5');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it("refuses another event's proof", async () => {
    renderCheck(() => log.proofOf(3));
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      `Not proven: The proof is for another event (#${eventAt(3).id}), not #${eventAt(2).id}.`,
    );
  });

  it('says when the proof could not be fetched', async () => {
    renderCheck(() =>
      Promise.reject(new ApiError({ status: 404, title: 'Not Found', detail: 'this event is not in a checkpoint yet' })),
    );
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The proof could not be fetched: this event is not in a checkpoint yet',
    );
  });

  it('starts afresh for another event', async () => {
    const queryClient = createTestQueryClient();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    );
    const fetchKey = async () => signer.verifierKey;
    const { rerender } = render(
      <ProofCheck event={eventAt(2)} fetchProof={() => log.proofOf(2)} fetchKey={fetchKey} timeZone="UTC" />,
      {
        wrapper,
      },
    );
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check the proof' }));
    expect(await screen.findByRole('status')).toHaveTextContent('Proven');

    rerender(<ProofCheck event={eventAt(3)} fetchProof={() => log.proofOf(3)} fetchKey={fetchKey} timeZone="UTC" />);
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Check the proof' })).toBeEnabled();
  });
});
