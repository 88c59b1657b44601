import { describe, expect, it } from 'vitest';
import { sessionStore } from '../features/auth/sessionStore';
import { demoUser } from '../test/fixtures';
import { problem, stubApi } from '../test/renderWithProviders';
import { api } from '.';

const signIn = (token: string) =>
  sessionStore.signIn({ access_token: token, token_type: 'Bearer', expires_in: 3600, user: demoUser });

describe('a 401 answer', () => {
  it('signs out with a notice when it refuses the current token', async () => {
    stubApi({ '/api/v1/events/1': () => problem(401, 'Unauthorized', 'the session was signed out') });
    signIn('old-token');
    await expect(api.getEvent(1)).rejects.toMatchObject({ status: 401 });
    expect(sessionStore.getState()).toEqual({ session: null, notice: 'Your session has expired. Please sign in again.' });
  });

  it('keeps the session when it refuses a token the session has replaced since (a password change)', async () => {
    stubApi({
      '/api/v1/events/1': () => {
        signIn('new-token');
        return problem(401, 'Unauthorized', 'the password changed');
      },
    });
    signIn('old-token');
    await expect(api.getEvent(1)).rejects.toMatchObject({ status: 401 });
    expect(sessionStore.token()).toBe('new-token');
  });
});
