import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createMemoryRouter, RouterProvider, type RouteObject } from 'react-router';
import { AuthProvider } from '../features/auth/AuthProvider';
import { sessionStore } from '../features/auth/sessionStore';
import { TimeZoneProvider } from '../features/timezone/TimeZoneProvider';
import type { AuditEvent, User } from '../api';
import { demoUser } from './fixtures';

/** A fresh query client per test, so no test sees another's cache. */
export function createTestQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
}

/** Renders `element` at `url`, signed in as `user` (the demo admin), with a fresh query client. */
export function renderWithProviders(
  element: ReactElement,
  { url = '/', path = '/', user = demoUser }: { url?: string; path?: string; user?: User } = {},
) {
  sessionStore.signIn({ access_token: 'test-token', token_type: 'Bearer', expires_in: 3600, user });
  const queryClient = createTestQueryClient();
  const routes: RouteObject[] = [
    { path, element: <TimeZoneProvider businessZone={user.tenant.timezone}>{element}</TimeZoneProvider> },
    { path: '*', element: <p>Elsewhere</p> },
  ];
  const router = createMemoryRouter(routes, { initialEntries: [url] });
  const utils = render(
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>,
  );
  return { ...utils, router, queryClient };
}

type Handler = (url: URL, request: Request) => unknown;

/** Stubs fetch with JSON answers per API path; records every request URL. */
export function stubApi(handlers: Record<string, Handler>) {
  const requests: URL[] = [];
  vi.stubGlobal('fetch', async (input: Request) => {
    const url = new URL(input.url);
    requests.push(url);
    const handler = handlers[url.pathname];
    if (!handler) {
      return new Response(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }), {
        status: 404,
        headers: { 'Content-Type': 'application/problem+json' },
      });
    }
    const body = await handler(url, input);
    if (body instanceof Response) return body;
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
  return requests;
}

/** An RFC 9457 problem response, as the API sends for every failure. */
export function problem(status: number, title: string, detail: string, errors?: { pointer: string; message: string }[]) {
  return new Response(JSON.stringify({ type: 'about:blank', title, status, detail, ...(errors ? { errors } : {}) }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });
}

/** A JSON response with a status other than 200 (201 Created, 204 No Content). */
export function jsonResponse(status: number, body?: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

/** A 429 problem with `Retry-After` (seconds), as the API answers too many attempts or streams. */
export function tooManyRequests(detail: string, retryAfter: number) {
  return new Response(JSON.stringify({ type: 'about:blank', title: 'Too many requests', status: 429, detail }), {
    status: 429,
    headers: { 'Content-Type': 'application/problem+json', 'Retry-After': String(retryAfter) },
  });
}

/**
 * A `text/event-stream` answer to `request` that sends `messages` (see `sse`) and then ends, or with
 * `open` stays open until the request is aborted, as the live tail does.
 */
export function eventStream(request: Request, messages: string[], { open = false } = {}) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      messages.forEach((message) => controller.enqueue(encoder.encode(message)));
      if (!open) controller.close();
      else request.signal.addEventListener('abort', () => controller.error(new DOMException('Aborted', 'AbortError')));
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

/** The live stream's messages: a new activity, and the problem that ends a stream. */
export const sse = {
  activity: (event: AuditEvent) => `id: ${event.seq}\nevent: activity\ndata: ${JSON.stringify(event)}\n\n`,
  error: (status: number, title: string, detail: string) =>
    `event: error\ndata: ${JSON.stringify({ type: 'about:blank', title, status, detail })}\n\n`,
};
