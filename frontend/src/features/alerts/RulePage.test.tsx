import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AlertRule } from '../../api';
import { makeAlertRule, makeDelivery } from '../../test/fixtures';
import { jsonResponse, problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { RulePage } from './RulePage';

const RULE = { url: '/admin/alerts/7', path: '/admin/alerts/:id' };
const form = () => screen.getByRole('form', { name: 'Alert rule' });

/** The rule's endpoints, answering with `rule` until a PUT replaces it; records the bodies sent. */
function stubRule(initial: AlertRule, deliveries: (url: URL, request: Request) => unknown = () => ({ items: [] })) {
  let rule = initial;
  const sent: { method: string; path: string; body?: unknown }[] = [];
  const requests = stubApi({
    '/api/v1/alerts/rules/7': async (_url, request) => {
      if (request.method === 'PUT') {
        const body = (await request.json()) as { paused: boolean; name: string };
        sent.push({ method: 'PUT', path: '/alerts/rules/7', body });
        rule = {
          ...rule,
          name: body.name,
          paused: body.paused,
          disabled_at: null,
          disabled_reason: null,
          updated_at: '2026-11-22T09:00:00Z',
        };
      } else if (request.method === 'DELETE') {
        sent.push({ method: 'DELETE', path: '/alerts/rules/7' });
        return jsonResponse(204);
      }
      return rule;
    },
    '/api/v1/alerts/rules/7/deliveries': deliveries,
    '/api/v1/alerts/rules/7/secret': () => ({ secret: 'whsec_bmV3LXNlY3JldA==' }),
  });
  return { sent, requests };
}

describe('RulePage', () => {
  it('says why a disabled rule stopped, and resumes it as it is', async () => {
    const { sent } = stubRule(
      makeAlertRule({
        disabled_at: '2026-11-21T10:00:00Z',
        disabled_reason: 'no delivery succeeded for 24 hours; last error: the receiver answered 503',
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<RulePage />, RULE);
    const banner = await screen.findByTestId('rule-disabled');
    expect(banner).toHaveTextContent('Disabled 21 Nov 2026');
    expect(banner).toHaveTextContent('the receiver answered 503');
    expect(screen.getByRole('heading', { level: 1, name: 'Flagged bookings' })).toBeInTheDocument();

    await user.click(within(banner).getByRole('button', { name: 'Resume' }));
    expect(await screen.findByText(/The rule is active again/)).toBeInTheDocument();
    expect(screen.queryByTestId('rule-disabled')).toBeNull();
    // Everything as it was, paused: false, and no headers, so the stored ones stay.
    expect(sent).toEqual([
      {
        method: 'PUT',
        path: '/alerts/rules/7',
        body: {
          name: 'Flagged bookings',
          filter: 'flag=any&module=booking',
          destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' },
          batch: { max_events: 10, max_seconds: 30 },
          paused: false,
        },
      },
    ]);
  });

  it('shows a digest as such, with its summaries, and keeps its schedule when resumed or saved', async () => {
    const { sent } = stubRule(
      makeAlertRule({
        name: 'Daily security digest',
        filter: 'flag=any',
        batch: { max_events: 1, max_seconds: 0 },
        schedule: 'daily',
        disabled_at: '2026-11-21T10:00:00Z',
        disabled_reason: 'no delivery succeeded for 24 hours',
      }),
      () => ({ items: [makeDelivery(1, { event_ids: [] }), makeDelivery(2)] }),
    );
    const user = userEvent.setup();
    renderWithProviders(<RulePage />, RULE);
    const heading = await screen.findByRole('heading', { level: 1, name: 'Daily security digest' });
    expect(within(heading.parentElement!).getByText('Daily digest')).toHaveClass('badge');
    expect(within(form()).getByRole('radio', { name: 'Daily digest' })).toBeChecked();
    expect(within(form()).queryByRole('group', { name: 'Batching' })).toBeNull();

    const table = await screen.findByTestId('deliveries-table');
    const [summary, single] = within(table).getAllByRole('row').slice(1);
    expect(summary).toHaveTextContent('Summary');
    expect(summary).not.toHaveTextContent('0 events');
    expect(single).toHaveTextContent('1 event');

    await user.click(within(screen.getByTestId('rule-disabled')).getByRole('button', { name: 'Resume' }));
    expect(await screen.findByText(/The digest is active again/)).toBeInTheDocument();
    expect(sent[0].body).toEqual({
      name: 'Daily security digest',
      filter: 'flag=any',
      destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' },
      batch: { max_events: 1, max_seconds: 0 },
      schedule: 'daily',
      paused: false,
    });

    await user.click(within(form()).getByRole('checkbox', { name: 'Paused: send no digests until resumed' }));
    await user.click(within(form()).getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Saved. The digest is paused: it sends nothing until resumed.')).toBeInTheDocument();
    expect(sent[1].body).toEqual({
      name: 'Daily security digest',
      filter: 'flag=any',
      destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' },
      schedule: 'daily',
      paused: true,
    });
  });

  it('keeps the stored headers unless they are replaced, and pauses the rule', async () => {
    const { sent } = stubRule(makeAlertRule());
    const user = userEvent.setup();
    renderWithProviders(<RulePage />, RULE);
    const headers = await screen.findByTestId('webhook-headers');
    expect(headers).toHaveTextContent('Sent with every delivery: X-Token.');
    expect(headers).toHaveTextContent('kept unless you replace them');
    await user.click(within(form()).getByRole('checkbox', { name: 'Paused: match no events until resumed' }));
    await user.click(within(form()).getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText(/Saved\. The rule is paused/)).toBeInTheDocument();
    expect(sent[0].body).toMatchObject({ paused: true, destination: { type: 'webhook', format: 'ndjson' } });
    expect((sent[0].body as { destination: object }).destination).not.toHaveProperty('headers');
    expect(screen.getAllByText('Paused')[0]).toHaveClass('badge');

    // Replacing asks for the values again.
    await user.click(within(screen.getByTestId('webhook-headers')).getByRole('button', { name: 'Replace headers' }));
    expect(within(form()).getByLabelText('Header name')).toHaveValue('X-Token');
    await user.click(within(form()).getByRole('button', { name: 'Save changes' }));
    expect(within(form()).getByLabelText('Header value')).toHaveAccessibleDescription('Enter the header’s value.');
    await user.type(within(form()).getByLabelText('Header value'), 'secret-2');
    await user.click(within(form()).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1].body).toMatchObject({ destination: { headers: [{ name: 'X-Token', value: 'secret-2' }] } });
  });

  it('pages through the deliveries and sends one again, saying when it is being sent already', async () => {
    const older = [makeDelivery(3, { status: 'failed', response_code: 503, error: 'the receiver answered 503' })];
    const { requests } = stubRule(makeAlertRule(), (url) =>
      url.searchParams.get('before') === '2'
        ? { items: older }
        : { items: [makeDelivery(1), makeDelivery(2, { status: 'pending', attempts: 3 })], next_before: 2 },
    );
    let redeliveries = 0;
    const redeliver = async (_url: URL, request: Request) => {
      expect(request.method).toBe('POST');
      redeliveries += 1;
      return redeliveries === 1
        ? jsonResponse(202, makeDelivery(3, { status: 'pending' }))
        : problem(409, 'Conflict', 'delivery 3 is being sent right now');
    };
    const stubbed = globalThis.fetch;
    vi.stubGlobal('fetch', (input: Request) =>
      new URL(input.url).pathname === '/api/v1/alerts/deliveries/3/redeliver'
        ? redeliver(new URL(input.url), input)
        : stubbed(input),
    );
    const user = userEvent.setup();
    renderWithProviders(<RulePage />, RULE);

    const table = await screen.findByTestId('deliveries-table');
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(requests.find((u) => u.pathname.endsWith('/deliveries'))?.searchParams.get('limit')).toBe('25');
    await user.click(screen.getByRole('button', { name: 'Load older' }));
    const row = await within(table).findByRole('row', { name: /Failed/ });
    expect(row).toHaveTextContent('1 event');
    expect(row).toHaveTextContent('503');
    expect(row).toHaveTextContent('the receiver answered 503');
    expect(screen.queryByRole('button', { name: 'Load older' })).toBeNull();

    await user.click(within(row).getByRole('button', { name: 'Redeliver msg_3' }));
    expect(await screen.findByText('Delivery msg_3 is being sent again, with the same webhook-id.')).toBeInTheDocument();
    await user.click(within(row).getByRole('button', { name: 'Redeliver msg_3' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Delivery msg_3 is being sent right now: delivery 3 is being sent right now',
    );
  });

  it('rotates the secret after asking, and shows the new one once', async () => {
    stubRule(makeAlertRule());
    const user = userEvent.setup();
    renderWithProviders(<RulePage />, RULE);
    await user.click(await screen.findByRole('button', { name: 'Rotate secret…' }));
    const confirm = screen.getByRole('dialog', { name: 'Rotate the signing secret of “Flagged bookings”?' });
    await user.click(within(confirm).getByRole('button', { name: 'Rotate secret' }));
    const dialog = await screen.findByTestId('rule-secret');
    expect(within(dialog).getByLabelText('Signing secret')).toHaveValue('whsec_bmV3LXNlY3JldA==');
    await user.click(within(dialog).getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByTestId('rule-secret')).toBeNull();
    expect(screen.getByText('The signing secret was replaced.')).toBeInTheDocument();
  });

  it('deletes the rule after asking, and goes back to the list', async () => {
    const { sent } = stubRule(makeAlertRule());
    const user = userEvent.setup();
    const { router } = renderWithProviders(<RulePage />, RULE);
    await user.click(await screen.findByRole('button', { name: 'Delete rule…' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete “Flagged bookings”?' });
    await user.click(within(confirm).getByRole('button', { name: 'Delete rule' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/admin/alerts'));
    expect(router.state.location.state).toEqual({ notice: 'Rule “Flagged bookings” was deleted.' });
    expect(sent).toEqual([{ method: 'DELETE', path: '/alerts/rules/7' }]);
  });

  it('says when the rule does not exist', async () => {
    stubApi({ '/api/v1/alerts/rules/7': () => problem(404, 'Not Found', 'alert rule 7 not found') });
    renderWithProviders(<RulePage />, RULE);
    expect(await screen.findByText('There is no such alert rule')).toBeInTheDocument();
  });
});
