import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { demoUser } from '../../test/fixtures';
import { createTestQueryClient, problem, stubApi, tooManyRequests } from '../../test/renderWithProviders';
import { AuthProvider } from './AuthProvider';
import { LoginPage } from './LoginPage';
import { sessionStore } from './sessionStore';

function renderLogin() {
  sessionStore.signOut();
  const router = createMemoryRouter(
    [
      { path: '/login', element: <LoginPage /> },
      { path: '/', element: <p>Dashboard</p> },
    ],
    { initialEntries: ['/login'] },
  );
  render(
    <QueryClientProvider client={createTestQueryClient()}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>,
  );
  return router;
}

async function submit(email: string, password: string) {
  const user = userEvent.setup();
  if (email) await user.type(screen.getByLabelText('Email'), email);
  if (password) await user.type(screen.getByLabelText('Password'), password);
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('LoginPage', () => {
  it('signs in, stores the session with its expiry and opens the dashboard', async () => {
    stubApi({
      '/api/v1/auth/login': () => ({ access_token: 'jwt', token_type: 'Bearer', expires_in: 3600, user: demoUser }),
    });
    const router = renderLogin();
    const before = Date.now();
    await submit('admin@acme.example', 'secret');
    await waitFor(() => expect(router.state.location.pathname).toBe('/'));
    const stored = JSON.parse(localStorage.getItem('auditlog.session')!);
    expect(stored.accessToken).toBe('jwt');
    expect(stored.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
  });

  it('says the credentials are wrong on 401', async () => {
    stubApi({
      '/api/v1/auth/login': () =>
        new Response(
          JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'wrong e-mail or password' }),
          {
            status: 401,
            headers: { 'Content-Type': 'application/problem+json' },
          },
        ),
    });
    renderLogin();
    await submit('admin@acme.example', 'nope');
    expect(await screen.findByRole('alert')).toHaveTextContent('Incorrect email or password.');
    expect(localStorage.getItem('auditlog.session')).toBeNull();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  it('says when to try again after too many attempts, from Retry-After', async () => {
    stubApi({ '/api/v1/auth/login': () => tooManyRequests('too many attempts; retry in 90 seconds', 90) });
    renderLogin();
    await submit('admin@acme.example', 'secret');
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 2 minutes.');
    expect(localStorage.getItem('auditlog.session')).toBeNull();
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  it('explains when the server cannot be reached', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    renderLogin();
    await submit('admin@acme.example', 'secret');
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot reach the server');
  });

  it('asks for the company when the e-mail has accounts in several tenants, then sends it', async () => {
    const bodies: unknown[] = [];
    stubApi({
      '/api/v1/auth/login': async (_url, request) => {
        const body = (await request.json()) as { tenant?: string };
        bodies.push(body);
        if (!body.tenant) {
          return problem(422, 'Validation failed', 'this e-mail has accounts in several tenants: add `tenant`');
        }
        return { access_token: 'jwt', token_type: 'Bearer', expires_in: 3600, user: demoUser };
      },
    });
    const router = renderLogin();
    expect(screen.queryByLabelText('Company (tenant)')).not.toBeInTheDocument();
    await submit('admin@acme.example', 'secret');
    expect(await screen.findByRole('alert')).toHaveTextContent('This email has accounts in several companies.');
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Enter the company (tenant) to sign in to.');
    await user.type(screen.getByLabelText('Company (tenant)'), 'acme');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/'));
    expect(bodies).toEqual([
      { email: 'admin@acme.example', password: 'secret' },
      { email: 'admin@acme.example', password: 'secret', tenant: 'acme' },
    ]);
  });

  it('asks for both fields', async () => {
    const requests = stubApi({});
    renderLogin();
    await submit('admin@acme.example', '');
    expect(await screen.findByRole('alert')).toHaveTextContent('Enter your email and password.');
    expect(requests).toHaveLength(0);
  });
});
