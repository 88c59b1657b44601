import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { jsonResponse, problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { CreateTokenDialog } from './CreateTokenDialog';

const created = {
  secret: 'alt_secret_shown_once_0123456789',
  token: {
    id: 7,
    name: 'CRM production',
    scopes: ['events:write'],
    created_at: '2026-11-20T12:00:00Z',
    created_by: 1,
    expires_at: null,
    last_used_at: null,
    revoked_at: null,
  },
};

/** The tokens page's way of opening and closing the dialog. */
function Harness() {
  const [open, setOpen] = useState(true);
  return open ? <CreateTokenDialog onClose={() => setOpen(false)} /> : <button onClick={() => setOpen(true)}>New token</button>;
}

describe('CreateTokenDialog', () => {
  it('asks for a name, a scope and a sensible lifetime before calling the server', async () => {
    const requests = stubApi({});
    const user = userEvent.setup();
    renderWithProviders(<Harness />);
    const dialog = screen.getByRole('dialog', { name: 'New API token' });
    await user.click(within(dialog).getByRole('checkbox', { name: /events:write/ }));
    await user.type(within(dialog).getByLabelText('Expires in (days, optional)'), '0');
    await user.click(within(dialog).getByRole('button', { name: 'Create token' }));
    expect(within(dialog).getByText('Enter a name, e.g. the application and environment.')).toBeInTheDocument();
    expect(within(dialog).getByText('Choose at least one scope.')).toBeInTheDocument();
    expect(within(dialog).getByText('Enter whole days from 1 to 3650.')).toBeInTheDocument();
    expect(requests).toHaveLength(0);
  });

  it('shows the field errors of a 422', async () => {
    stubApi({
      '/api/v1/tokens': () =>
        problem(422, 'Validation failed', '/name: must be 1 to 100 printable characters', [
          { pointer: '/name', message: 'must be 1 to 100 printable characters' },
        ]),
    });
    const user = userEvent.setup();
    renderWithProviders(<Harness />);
    await user.type(screen.getByLabelText('Name'), 'x'.repeat(101));
    await user.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByText('must be 1 to 100 printable characters')).toBeInTheDocument();
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
  });

  it('shows the secret once, copies it, and forgets it when closed', async () => {
    let body: unknown;
    stubApi({
      '/api/v1/tokens': async (_url, request) => {
        if (request.method === 'POST') body = await request.json();
        return jsonResponse(201, created);
      },
    });
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue();
    renderWithProviders(<Harness />);
    await user.type(screen.getByLabelText('Name'), 'CRM production');
    await user.type(screen.getByLabelText('Expires in (days, optional)'), '90');
    await user.click(screen.getByRole('button', { name: 'Create token' }));

    const secret = await screen.findByTestId('token-secret');
    expect(body).toEqual({ name: 'CRM production', scopes: ['events:write'], expires_in_days: 90 });
    expect(secret).toHaveTextContent('You will not see it again');
    expect(within(secret).getByLabelText('Secret')).toHaveValue(created.secret);

    await user.click(within(secret).getByRole('button', { name: 'Copy secret' }));
    expect(writeText).toHaveBeenCalledWith(created.secret);
    expect(await within(secret).findByText('Copied to the clipboard.')).toBeInTheDocument();

    // Neither Esc nor Done closes it before its reader says the secret is kept.
    expect(within(secret).getByRole('button', { name: 'Done' })).toBeDisabled();
    // jsdom does not turn Esc into the dialog's cancel event: send the event itself.
    fireEvent(secret, new Event('cancel', { cancelable: true }));
    expect(screen.getByTestId('token-secret')).toBeInTheDocument();
    expect(within(secret).getByRole('alert')).toHaveTextContent('once this closes, the secret is gone');
    await user.click(within(secret).getByLabelText('I have copied the secret and stored it safely'));
    expect(within(secret).queryByRole('alert')).not.toBeInTheDocument();
    await user.click(within(secret).getByRole('button', { name: 'Done' }));
    expect(screen.queryByTestId('token-secret')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'New token' }));
    expect(screen.getByRole('dialog', { name: 'New API token' })).toBeInTheDocument();
    expect(screen.queryByDisplayValue(created.secret)).not.toBeInTheDocument();
  });
});
