import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { demoUser } from '../../test/fixtures';
import { problem, renderWithProviders, stubApi, tooManyRequests } from '../../test/renderWithProviders';
import { sessionStore } from '../auth/sessionStore';
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

  it('sends both passwords, then keeps the session with the new token the answer carries', async () => {
    let body: unknown;
    let sentWith: string | null = null;
    stubApi({
      '/api/v1/auth/password': async (_url, request) => {
        body = await request.json();
        sentWith = request.headers.get('Authorization');
        return { access_token: 'new-token', token_type: 'Bearer', expires_in: 3600, user: demoUser };
      },
    });
    renderWithProviders(<ChangePasswordDialog onClose={() => {}} />);
    expect(sessionStore.token()).toBe('test-token');
    await fill('old-password-1', 'a-new-password-1');
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Your password was changed. Your other sessions were signed out.',
    );
    expect(body).toEqual({ current_password: 'old-password-1', new_password: 'a-new-password-1' });
    expect(sentWith).toBe('Bearer test-token');
    expect(sessionStore.token()).toBe('new-token');
    expect(JSON.parse(localStorage.getItem(sessionStore.storageKey)!).accessToken).toBe('new-token');
  });

  it('says when to try again after too many wrong current passwords (429)', async () => {
    stubApi({
      '/api/v1/auth/password': () => tooManyRequests('too many attempts; retry in 120 seconds', 120),
    });
    renderWithProviders(<ChangePasswordDialog onClose={() => {}} />);
    await fill('wrong-password', 'a-new-password-1');
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 2 minutes.');
    expect(sessionStore.token()).toBe('test-token');
    expect(screen.getByRole('button', { name: 'Change password' })).toBeEnabled();
  });
});
