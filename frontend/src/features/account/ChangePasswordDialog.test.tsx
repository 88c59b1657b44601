import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { jsonResponse, problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { ChangePasswordDialog } from './ChangePasswordDialog';

async function fill(current: string, next: string, repeat = next) {
  const user = userEvent.setup();
  const dialog = screen.getByRole('dialog', { name: 'Change password' });
  if (current) await user.type(within(dialog).getByLabelText('Current password'), current);
  if (next) await user.type(within(dialog).getByLabelText('New password'), next);
  if (repeat) await user.type(within(dialog).getByLabelText('Repeat the new password'), repeat);
  await user.click(within(dialog).getByRole('button', { name: 'Change password' }));
  return dialog;
}

describe('ChangePasswordDialog', () => {
  it('checks the fields before calling the server', async () => {
    const requests = stubApi({});
    renderWithProviders(<ChangePasswordDialog onClose={() => {}} />);
    await fill('', 'short', 'other');
    expect(screen.getByText('Enter your current password.')).toBeInTheDocument();
    expect(screen.getByText('Use at least 10 characters.')).toBeInTheDocument();
    expect(screen.getByText('The two new passwords differ.')).toBeInTheDocument();
    expect(screen.getByLabelText('Current password')).toHaveAttribute('aria-invalid', 'true');
    expect(requests).toHaveLength(0);
  });

  it('shows the field errors of a 422 next to their fields', async () => {
    stubApi({
      '/api/v1/auth/password': () =>
        problem(422, 'Validation failed', 'current_password is not correct', [
          { pointer: '/current_password', message: 'not correct' },
        ]),
    });
    renderWithProviders(<ChangePasswordDialog onClose={() => {}} />);
    await fill('wrong-password', 'a-new-password-1');
    expect(await screen.findByText('not correct')).toBeInTheDocument();
    expect(screen.getByLabelText('Current password')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('New password')).not.toHaveAttribute('aria-invalid');
    expect(screen.getByRole('alert')).toHaveTextContent('Check the highlighted fields.');
  });

  it('sends both passwords and confirms the change on 204', async () => {
    let body: unknown;
    stubApi({
      '/api/v1/auth/password': async (_url, request) => {
        body = await request.json();
        return jsonResponse(204);
      },
    });
    renderWithProviders(<ChangePasswordDialog onClose={() => {}} />);
    await fill('old-password-1', 'a-new-password-1');
    expect(await screen.findByRole('status')).toHaveTextContent('Your password was changed.');
    expect(body).toEqual({ current_password: 'old-password-1', new_password: 'a-new-password-1' });
  });
});
