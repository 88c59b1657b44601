import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { ManagedUser } from '../../api';
import { jsonResponse, problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { UsersPage } from './UsersPage';

const admin: ManagedUser = {
  id: 1,
  email: 'admin@acme.example',
  name: 'Alice Admin',
  role: 'admin',
  actor_id: 'user-1',
  active: true,
  created_at: '2026-11-01T09:00:00Z',
  updated_at: '2026-11-01T09:00:00Z',
  last_sign_in_at: null,
};

const lastAdmin = () => problem(409, 'Conflict', "the tenant's last active admin cannot be demoted or deactivated");

describe('UsersPage', () => {
  it('checks the new user form, then shows what the API rejects', async () => {
    const requests = stubApi({
      '/api/v1/users': (_url, request) =>
        request.method === 'POST' ? problem(409, 'Conflict', 'a user with this e-mail already exists') : { items: [admin] },
    });
    const user = userEvent.setup();
    renderWithProviders(<UsersPage />);
    await user.click(await screen.findByRole('button', { name: 'Add user' }));
    const dialog = screen.getByRole('dialog', { name: 'Add a user' });
    await user.type(within(dialog).getByLabelText('Email'), 'not-an-address');
    await user.type(within(dialog).getByLabelText('Initial password'), 'short');
    await user.click(within(dialog).getByRole('button', { name: 'Add user' }));
    expect(within(dialog).getByText('Enter a name.')).toBeInTheDocument();
    expect(within(dialog).getByText('Enter a valid email address.')).toBeInTheDocument();
    expect(within(dialog).getByText('Use at least 10 characters.')).toBeInTheDocument();
    expect(requests.filter((u) => u.pathname === '/api/v1/users')).toHaveLength(1);

    await user.type(within(dialog).getByLabelText('Name'), 'Alice Again');
    await user.clear(within(dialog).getByLabelText('Email'));
    await user.type(within(dialog).getByLabelText('Email'), 'admin@acme.example');
    await user.type(within(dialog).getByLabelText('Initial password'), '-but-longer');
    await user.click(within(dialog).getByRole('button', { name: 'Add user' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('a user with this e-mail already exists');
  });

  it('shows the 409 the server answers for a demotion, and keeps the role', async () => {
    const other = { ...admin, id: 2, email: 'ann@acme.example', name: 'Ann Admin' };
    stubApi({ '/api/v1/users': () => ({ items: [admin, other] }), '/api/v1/users/2': () => lastAdmin() });
    const user = userEvent.setup();
    renderWithProviders(<UsersPage />);
    await user.selectOptions(await screen.findByLabelText('Role of Ann Admin'), 'member');
    expect(await screen.findByRole('alert')).toHaveTextContent('last active admin cannot be demoted');
    expect(screen.getByLabelText('Role of Ann Admin')).toHaveValue('admin');
  });

  it('keeps your own role and account out of your reach, and says who can change them', async () => {
    const other = {
      ...admin,
      id: 2,
      email: 'ann@acme.example',
      name: 'Ann Admin',
      last_sign_in_at: new Date(Date.now() - 3 * 60_000).toISOString(),
    };
    stubApi({ '/api/v1/users': () => ({ items: [admin, other] }) });
    renderWithProviders(<UsersPage />);
    const own = (await screen.findByText('(you)')).closest('tr')!;
    expect(within(own).getByLabelText('Role of Alice Admin')).toBeDisabled();
    expect(within(own).getByLabelText('Role of Alice Admin')).toHaveAccessibleDescription(
      'Another admin can change your role or deactivate you.',
    );
    expect(within(own).queryByRole('button', { name: /Deactivate/ })).not.toBeInTheDocument();
    const others = screen.getByText('Ann Admin').closest('tr')!;
    expect(within(others).getByLabelText('Role of Ann Admin')).toBeEnabled();
    expect(within(others).getByRole('button', { name: 'Deactivate…' })).toBeInTheDocument();
    // Last sign-in: how long ago, the exact time on hover; never for who never signed in.
    expect(within(others).getByText('3 min ago')).toHaveAttribute('title', expect.stringMatching(/\d{4}, \d{2}:\d{2}:\d{2} /));
    expect(within(own).getByText('Never')).toBeInTheDocument();
  });

  it('deactivates only after confirmation', async () => {
    const member = { ...admin, id: 3, email: 'member@acme.example', name: 'Max Member', role: 'member' as const };
    let patched: unknown;
    stubApi({
      '/api/v1/users': () => ({ items: [admin, member] }),
      '/api/v1/users/3': async (_url, request) => {
        patched = await request.json();
        return jsonResponse(200, { ...member, active: false });
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<UsersPage />);
    const row = (await screen.findByText('member@acme.example')).closest('tr')!;
    await user.click(within(row).getByRole('button', { name: 'Deactivate…' }));
    const dialog = screen.getByRole('dialog', { name: 'Deactivate Max Member?' });
    expect(patched).toBeUndefined();
    await user.click(within(dialog).getByRole('button', { name: 'Deactivate' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(patched).toEqual({ active: false });
    expect(screen.getByRole('status')).toHaveTextContent('Max Member was deactivated.');
  });
});
