import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/fixtures';
import { renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { EventDetailModal } from './EventDetailModal';

describe('EventDetailModal flags', () => {
  it('lists each flag with its readable kind and the server’s reason', async () => {
    stubApi({
      '/api/v1/events/1': () =>
        makeEvent(1, {
          flags: [
            { kind: 'new_ip', reason: "Bob Manager's first event from the network 198.51.100.0/24 in 90 days" },
            { kind: 'privilege_change', reason: 'Bob Manager changed the role of Mia Member to admin' },
          ],
        }),
    });
    renderWithProviders(<EventDetailModal eventId={1} onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'Activity #1' });
    const section = await within(dialog).findByRole('region', { name: 'Flags' });
    const items = within(section).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("New network Bob Manager's first event from the network 198.51.100.0/24 in 90 days");
    expect(items[1]).toHaveTextContent('Privilege change Bob Manager changed the role of Mia Member to admin');
  });

  it('has no Flags section for an event without flags', async () => {
    stubApi({ '/api/v1/events/2': () => makeEvent(2) });
    renderWithProviders(<EventDetailModal eventId={2} onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'Activity #2' });
    expect(await within(dialog).findByRole('heading', { name: 'Related records' })).toBeInTheDocument();
    expect(within(dialog).queryByRole('heading', { name: 'Flags' })).toBeNull();
    expect(within(dialog).queryByRole('region', { name: 'Flags' })).toBeNull();
  });
});
