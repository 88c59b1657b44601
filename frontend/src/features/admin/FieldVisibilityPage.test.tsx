import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { FieldVisibility } from '../../api';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { FieldVisibilityPage } from './FieldVisibilityPage';

const defaults: FieldVisibility = {
  ip: 'members',
  user_agent: 'members',
  actor_email: 'nobody',
  changes: 'nobody',
  metadata: 'nobody',
};

const form = () => screen.getByRole('form', { name: 'Field visibility' });
const field = (label: string) => within(form()).getByLabelText(label);

describe('FieldVisibilityPage', () => {
  it('shows who may not see each field as the server has it', async () => {
    stubApi({ '/api/v1/settings/fields': () => defaults });
    renderWithProviders(<FieldVisibilityPage />);
    expect(await screen.findByRole('form', { name: 'Field visibility' })).toBeInTheDocument();
    expect(field('IP address')).toHaveValue('members');
    expect(field('User agent')).toHaveValue('members');
    expect(field("User's e-mail")).toHaveValue('nobody');
    expect(field('Changes (before and after values)')).toHaveValue('nobody');
    expect(field('Metadata')).toHaveValue('nobody');
    // Admins cannot be chosen: they always see everything.
    const options = within(field('IP address') as HTMLSelectElement).getAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual([
      'Every role sees it',
      'Hidden from members',
      'Hidden from members and managers',
    ]);
  });

  it('saves the whole setting with PUT and shows what the server kept', async () => {
    let sent: unknown;
    stubApi({
      '/api/v1/settings/fields': async (_url, request) => {
        if (request.method !== 'PUT') return defaults;
        sent = await request.json();
        return sent;
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<FieldVisibilityPage />);
    await screen.findByRole('form', { name: 'Field visibility' });
    await user.selectOptions(field('IP address'), 'members_and_managers');
    await user.selectOptions(field("User's e-mail"), 'members');
    await user.click(within(form()).getByRole('button', { name: 'Save field visibility' }));
    expect(await within(form()).findByRole('status')).toHaveTextContent('Saved.');
    expect(sent).toEqual({ ...defaults, ip: 'members_and_managers', actor_email: 'members' });
    expect(field('IP address')).toHaveValue('members_and_managers');
  });

  it('says why the server refused a setting, and keeps the form as it was', async () => {
    stubApi({
      '/api/v1/settings/fields': (_url, request) =>
        request.method === 'PUT' ? problem(403, 'Forbidden', 'only admins may do this (you are a manager)') : defaults,
    });
    const user = userEvent.setup();
    renderWithProviders(<FieldVisibilityPage />);
    await screen.findByRole('form', { name: 'Field visibility' });
    await user.selectOptions(field('Metadata'), 'members');
    await user.click(within(form()).getByRole('button', { name: 'Save field visibility' }));
    expect(await within(form()).findByRole('alert')).toHaveTextContent('only admins may do this');
    expect(field('Metadata')).toHaveValue('members');
  });

  it('offers a retry when the setting cannot be loaded', async () => {
    stubApi({ '/api/v1/settings/fields': () => problem(503, 'Service Unavailable', 'database unavailable') });
    renderWithProviders(<FieldVisibilityPage />);
    expect(await screen.findByRole('button', { name: 'Retry' })).toBeInTheDocument();
  });
});
