import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { RecordLinks } from '../../api';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { RecordLinksPage } from './RecordLinksPage';

const PATH = '/api/v1/settings/record-links';
const stored: RecordLinks = {
  app_name: 'Acme CRM',
  templates: [{ entity_type: 'booking', url: 'https://crm.acme.example/bookings/{id}' }],
};

const form = () => screen.getByRole('form', { name: 'Record links' });
const rows = () => within(form()).queryAllByTestId('record-link-row');
const inRow = (index: number, label: string) => within(rows()[index]).getByLabelText(label);

describe('RecordLinksPage', () => {
  it('shows the stored links with a preview of a rendered link', async () => {
    stubApi({ [PATH]: () => stored });
    renderWithProviders(<RecordLinksPage />);
    expect(screen.getByLabelText('Loading the record links')).toHaveAttribute('aria-busy', 'true');
    expect(await screen.findByLabelText('Application name')).toHaveValue('Acme CRM');
    expect(screen.getByText('Links read “Open in Acme CRM”.')).toBeInTheDocument();
    expect(rows()).toHaveLength(1);
    expect(inRow(0, 'Record type')).toHaveValue('booking');
    expect(inRow(0, 'URL template')).toHaveValue('https://crm.acme.example/bookings/{id}');
    expect(screen.getByTestId('record-link-preview')).toHaveTextContent('https://crm.acme.example/bookings/12345');
  });

  it('says what is wrong as the admin types, and sends nothing while it is', async () => {
    const user = userEvent.setup();
    const requests = stubApi({ [PATH]: () => stored });
    renderWithProviders(<RecordLinksPage />);
    const url = await screen.findByDisplayValue('https://crm.acme.example/bookings/{id}');
    await user.clear(url);
    await user.type(url, 'javascript:alert(1)//');
    expect(url).toHaveAccessibleDescription(expect.stringContaining('Start with https://'));
    expect(screen.queryByTestId('record-link-preview')).not.toBeInTheDocument();
    await user.clear(url);
    await user.type(url, 'https://crm.acme.example/{{name}');
    expect(url).toHaveAccessibleDescription('Use only {id} and {type}: {name} is not replaced.');
    await user.clear(url);
    await user.type(url, 'https://crm.acme.example/b/{{id}');
    expect(url).not.toHaveAttribute('aria-invalid');
    expect(screen.getByTestId('record-link-preview')).toHaveTextContent('https://crm.acme.example/b/12345');

    // A second row for the same type is refused before it is sent.
    await user.click(screen.getByRole('button', { name: 'Add a link' }));
    await user.type(inRow(1, 'Record type'), 'booking');
    expect(inRow(1, 'Record type')).toHaveAccessibleDescription('booking has a link above already.');
    await user.click(screen.getByRole('button', { name: 'Save links' }));
    expect(await screen.findByText('Check the highlighted fields.')).toBeInTheDocument();
    expect(inRow(1, 'URL template')).toHaveAccessibleDescription('Name a host after https://.');
    expect(requests.filter((r) => r.pathname === PATH)).toHaveLength(1);
  });

  it('adds and removes rows, saves with PUT and shows what the server kept', async () => {
    const user = userEvent.setup();
    let sent: unknown;
    let answer!: () => void;
    stubApi({
      [PATH]: async (_url, request) => {
        if (request.method !== 'PUT') return stored;
        sent = await request.json();
        await new Promise<void>((resolve) => (answer = resolve));
        return sent;
      },
    });
    renderWithProviders(<RecordLinksPage />);
    await screen.findByLabelText('Application name');
    await user.click(screen.getByRole('button', { name: 'Add a link' }));
    await user.type(inRow(1, 'Record type'), 'customer');
    await user.clear(inRow(1, 'URL template'));
    await user.type(inRow(1, 'URL template'), 'https://crm.acme.example/c?id={{id}');
    await user.click(screen.getByRole('button', { name: 'Remove the link for booking' }));
    await user.clear(screen.getByLabelText('Application name'));
    await user.type(screen.getByLabelText('Application name'), 'Acme CRM 2');
    await user.click(screen.getByRole('button', { name: 'Save links' }));
    expect(await screen.findByRole('button', { name: 'Saving…' })).toBeDisabled();
    answer();
    expect(await screen.findByText(/Saved\. Records of the listed types now offer “Open in Acme CRM 2”/)).toBeInTheDocument();
    expect(sent).toEqual({
      app_name: 'Acme CRM 2',
      templates: [{ entity_type: 'customer', url: 'https://crm.acme.example/c?id={id}' }],
    });
    expect(rows()).toHaveLength(1);
    expect(inRow(0, 'Record type')).toHaveValue('customer');
  });

  it('shows the server’s refusal beside the field it names', async () => {
    const user = userEvent.setup();
    stubApi({
      [PATH]: (_url, request) =>
        request.method === 'PUT'
          ? problem(422, 'Validation failed', '/templates/0/url: must be a valid https URL once `{id}` is filled in', [
              { pointer: '/templates/0/url', message: 'must be a valid https URL once `{id}` is filled in' },
            ])
          : stored,
    });
    renderWithProviders(<RecordLinksPage />);
    await screen.findByLabelText('Application name');
    await user.click(screen.getByRole('button', { name: 'Save links' }));
    await waitFor(() =>
      expect(inRow(0, 'URL template')).toHaveAccessibleDescription(expect.stringContaining('must be a valid https URL')),
    );
    expect(screen.getByText('Check the highlighted fields.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Save links' })).toBeEnabled();
  });

  it('says so when the links cannot be loaded', async () => {
    stubApi({ [PATH]: () => problem(500, 'Internal server error', 'an unexpected error occurred; it has been logged') });
    renderWithProviders(<RecordLinksPage />);
    expect(await screen.findByText('The record links could not be loaded')).toBeInTheDocument();
  });
});
