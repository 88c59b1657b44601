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

describe('EventDetailModal records of the log itself', () => {
  it('shows a deletion as the activities it deleted, each a link, and its reason', async () => {
    stubApi({
      '/api/v1/events/9': () =>
        makeEvent(9, {
          action: 'auditlog.deleted',
          module: 'auditlog',
          verb: 'deleted',
          description: 'Deleted 2 activities (#5011, #5012) — reason: duplicate import',
          metadata: { ids: [5011, 5012], count: 2, reason: 'duplicate import' } as never,
          changes: [],
        }),
    });
    renderWithProviders(<EventDetailModal eventId={9} onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'Activity #9' });
    const section = await within(dialog).findByRole('region', { name: 'Deletion' });
    const links = within(section).getAllByRole('link');
    expect(links.map((l) => [l.textContent, l.getAttribute('href')])).toEqual([
      ['#5011', '/?event=5011'],
      ['#5012', '/?event=5012'],
    ]);
    expect(section).toHaveTextContent('Deleted2 activities');
    expect(section).toHaveTextContent('Reasonduplicate import');
    // Never raw JSON, and no empty "no field changes" block.
    expect(within(dialog).queryByRole('heading', { name: 'Metadata' })).toBeNull();
    expect(dialog).not.toHaveTextContent('"ids"');
    expect(dialog).not.toHaveTextContent('No field changes');
  });

  it('shows an export with its file and its filters as chips', async () => {
    stubApi({
      '/api/v1/events/10': () =>
        makeEvent(10, {
          action: 'auditlog.exported',
          module: 'auditlog',
          verb: 'exported',
          metadata: {
            format: 'csv',
            rows: 1204,
            completed: true,
            filters: 'module=invoice&range=last_30_days&tz=Europe%2FLondon&sort=occurred_at&bom=1&q=late+fee',
          } as never,
          changes: [],
        }),
    });
    renderWithProviders(<EventDetailModal eventId={10} onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'Activity #10' });
    const section = await within(dialog).findByRole('region', { name: 'Export' });
    expect(section).toHaveTextContent('FileCSV, 1,204 activities');
    const chips = within(within(section).getByRole('list', { name: 'Export filters' })).getAllByRole('listitem');
    expect(chips.map((c) => c.textContent)).toEqual(['Type: Invoice', 'Date range: Last 30 days', 'Search: “late fee”']);
    expect(within(dialog).queryByRole('heading', { name: 'Metadata' })).toBeNull();
  });

  it('reads the rows picked by hand as the selection', async () => {
    stubApi({
      '/api/v1/events/11': () =>
        makeEvent(11, {
          action: 'auditlog.exported',
          module: 'auditlog',
          verb: 'exported',
          metadata: { format: 'pdf', rows: 2, filters: 'ids=4&ids=5&format=pdf' } as never,
        }),
    });
    renderWithProviders(<EventDetailModal eventId={11} onClose={() => {}} />);
    const section = await screen.findByRole('region', { name: 'Export' });
    expect(within(section).getByRole('list', { name: 'Export filters' })).toHaveTextContent('Selected: #4, #5');
  });
});

describe('EventDetailModal tombstones', () => {
  it('says who deleted the entry, when and why, and links to the deletion record', async () => {
    stubApi({
      '/api/v1/events/12': () =>
        makeEvent(12, {
          description: '',
          deleted_at: '2026-11-03T10:15:00Z',
          deleted_by: 'a1',
          deletion: {
            record_id: 5020,
            actor: { id: 'a1', name: 'Ada Admin', role: 'admin', type: 'user' },
            at: '2026-11-03T10:15:00Z',
            reason: 'duplicate import',
          },
        }),
    });
    renderWithProviders(<EventDetailModal eventId={12} onClose={() => {}} />);
    const note = await screen.findByTestId('tombstone-note');
    expect(note).toHaveTextContent(/by Ada Admin \(Admin\), reason: “duplicate import”\. See the deletion record #5020\./);
    expect(within(note).getByRole('link', { name: '#5020' })).toHaveAttribute('href', '/?event=5020');
    expect(note).not.toHaveTextContent('by actor a1');
  });

  it('names the deleter by id when the deletion record is not there to read', async () => {
    stubApi({
      '/api/v1/events/13': () => makeEvent(13, { deleted_at: '2026-11-03T10:15:00Z', deleted_by: 'a1' }),
    });
    renderWithProviders(<EventDetailModal eventId={13} onClose={() => {}} />);
    expect(await screen.findByTestId('tombstone-note')).toHaveTextContent('by actor a1.');
  });
});

describe('EventDetailModal fields hidden from the role', () => {
  it('says “Hidden from your role” where a field is withheld, never an empty value', async () => {
    stubApi({
      '/api/v1/events/5': () =>
        makeEvent(5, {
          ip: null,
          user_agent: null,
          changes: [],
          metadata: {},
          withheld: ['ip', 'user_agent', 'changes', 'metadata'],
        }),
    });
    renderWithProviders(<EventDetailModal eventId={5} onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'Activity #5' });
    expect(await within(dialog).findByTestId('detail-ip')).toHaveTextContent('Hidden from your role');
    expect(within(dialog).getByTestId('detail-user-agent')).toHaveTextContent('Hidden from your role');
    expect(within(dialog).getAllByTestId('hidden-from-role')).toHaveLength(4);
    expect(within(dialog).queryByText('Not recorded')).toBeNull();
  });
});
