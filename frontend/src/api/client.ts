import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './generated/openapi';
import { ApiError, networkError, toApiError } from './errors';

interface AuthHooks {
  getToken: () => string | null;
  onUnauthorized: () => void;
}

let authHooks: AuthHooks = { getToken: () => null, onUnauthorized: () => {} };

/** Lets the auth feature plug in the current bearer token and the reaction to a 401. */
export function configureAuth(hooks: AuthHooks): void {
  authHooks = hooks;
}

const bearerToken: Middleware = {
  onRequest({ request }) {
    const token = authHooks.getToken();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401) credentialsRefused(request.headers.get('Authorization'));
    return response;
  },
};

/**
 * Reacts to the server refusing the credentials a request was sent with (`authorization`, its
 * header): the session is over, unless it has moved on to another token since the request left
 * (a password change re-issues it, another tab signed in again). Answers whether it signed out.
 */
export function credentialsRefused(authorization: string | null): boolean {
  // A rejected login is a wrong password, not an expired session.
  if (!authorization) return false;
  const current = authHooks.getToken();
  if (current !== null && authorization !== `Bearer ${current}`) return false;
  authHooks.onUnauthorized();
  return true;
}

export const client = createClient<paths>({
  baseUrl: window.location.origin,
  // Resolved per call rather than captured once, so tests can stub the global fetch.
  fetch: (request) => globalThis.fetch(request),
});
client.use(bearerToken);

type Outcome<T> = { data?: T; error?: unknown; response: Response };

/**
 * Awaits an openapi-fetch call and returns its data with the response, or throws an ApiError
 * carrying the problem+json details (status 0 when the request never reached the server).
 */
export async function send<T>(call: Promise<Outcome<T>>): Promise<{ data: T; response: Response }> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw networkError(cause);
  }
  const { data, error, response } = outcome;
  if (!response.ok) throw toApiError(response.status, response.statusText, error, response.headers);
  return { data: data as T, response };
}

export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  return (await send(call)).data;
}

export { ApiError };
