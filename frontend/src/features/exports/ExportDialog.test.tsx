import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { demoUser } from '../../test/fixtures';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { ExportDialog } from './ExportDialog';
import { DEFAULT_COLUMNS, EXPORT_COLUMNS } from './exportColumns';
import generatedClient from '../../api/generated/openapi.ts?raw';

const LINK = '/api/v1/events/export/link';

describe('ExportDialog', () => {
  let opened: string[];
  const onStarted = vi.fn();
  const onClose = vi.fn();

  beforeEach(() => {
    window.localStorage.clear();
    opened = [];
    onStarted.mockReset();
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      opened.push(this.getAttribute('href') ?? '');
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const open = () =>
    renderWithProviders(
      <ExportDialog
        title="Export all matching"
        query={{ module: 'booking', tz: 'UTC' }}
        onClose={onClose}
        onStarted={onStarted}
      />,
    );
  const dialog = () => screen.getByRole('dialog', { name: 'Export all matching' });
  const linkRequests = (requests: URL[]) =>
    requests.filter((u) => u.pathname === LINK).map((u) => Object.fromEntries(u.searchParams));

  it('downloads a CSV with the usual columns through a link the browser opens', async () => {
    const requests = stubApi({ [LINK]: () => ({ url: '/api/v1/downloads/abc', expires_at: '2026-12-07T18:00:00Z' }) });
    open();
    expect(within(dialog()).getByRole('radio', { name: 'CSV' })).toBeChecked();
    const boxes = within(dialog()).getAllByRole('checkbox');
    expect(boxes.filter((b) => (b as HTMLInputElement).checked)).toHaveLength(DEFAULT_COLUMNS.length);
    await userEvent.click(within(dialog()).getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith('csv'));
    expect(opened).toEqual(['/api/v1/downloads/abc']);
    // The usual columns are the server's default: no `columns` sent; a BOM for spreadsheets.
    expect(linkRequests(requests)).toEqual([{ module: 'booking', tz: 'UTC', format: 'csv', bom: '1' }]);
  });

  it('sends the chosen columns in the file order and remembers them for this user', async () => {
    const requests = stubApi({ [LINK]: () => ({ url: '/api/v1/downloads/x', expires_at: '2026-12-07T18:00:00Z' }) });
    const { unmount } = open();
    await userEvent.click(within(dialog()).getByRole('radio', { name: 'Excel (XLSX)' }));
    await userEvent.click(within(dialog()).getByRole('checkbox', { name: 'Metadata' }));
    await userEvent.click(within(dialog()).getByRole('checkbox', { name: 'Hash' }));
    await userEvent.click(within(dialog()).getByRole('checkbox', { name: 'Previous hash' }));
    await userEvent.click(within(dialog()).getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith('xlsx'));
    const sent = linkRequests(requests)[0];
    expect(sent.format).toBe('xlsx');
    expect(sent.bom).toBeUndefined();
    const columns = sent.columns.split(',');
    expect(columns).toEqual(
      [...DEFAULT_COLUMNS.filter((c) => c !== 'hash' && c !== 'prev_hash'), 'metadata'].sort(
        (a, b) => EXPORT_COLUMNS.findIndex((c) => c.name === a) - EXPORT_COLUMNS.findIndex((c) => c.name === b),
      ),
    );
    unmount();
    open();
    expect(within(dialog()).getByRole('checkbox', { name: 'Metadata' })).toBeChecked();
    expect(within(dialog()).getByRole('checkbox', { name: 'Hash' })).not.toBeChecked();
    expect(window.localStorage.getItem(`auditlog.exportColumns.${demoUser.id}`)).toContain('metadata');
  });

  it('offers no columns for a PDF and needs at least one for the others', async () => {
    const requests = stubApi({ [LINK]: () => ({ url: '/api/v1/downloads/p', expires_at: '2026-12-07T18:00:00Z' }) });
    open();
    await userEvent.click(within(dialog()).getByRole('button', { name: 'Usual' }));
    for (const box of within(dialog()).getAllByRole('checkbox')) {
      if ((box as HTMLInputElement).checked) await userEvent.click(box);
    }
    expect(within(dialog()).getByText('Choose at least one column.')).toBeInTheDocument();
    expect(within(dialog()).getByRole('button', { name: 'Download' })).toBeDisabled();
    await userEvent.click(within(dialog()).getByRole('radio', { name: 'PDF' }));
    expect(within(dialog()).queryAllByRole('checkbox')).toHaveLength(0);
    await userEvent.click(within(dialog()).getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith('pdf'));
    expect(linkRequests(requests)).toEqual([{ module: 'booking', tz: 'UTC', format: 'pdf' }]);
  });

  it('shows the server’s reason and opens nothing when the link is refused', async () => {
    stubApi({ [LINK]: () => problem(400, 'Bad request', 'query parameter `module`: too long') });
    open();
    await userEvent.click(within(dialog()).getByRole('button', { name: 'Download' }));
    expect(await within(dialog()).findByRole('alert')).toHaveTextContent('too long');
    expect(opened).toEqual([]);
    expect(onStarted).not.toHaveBeenCalled();
  });

  it('knows the columns the API document names, in its order', () => {
    // The generated client carries the schema's description, which lists the server's columns.
    const description = /The columns: (.*?)\. Without it/.exec(generatedClient)?.[1] ?? '';
    const names = [...description.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(names).toEqual(EXPORT_COLUMNS.map((c) => c.name));
  });
});
