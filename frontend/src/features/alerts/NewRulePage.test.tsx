import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { makeAlertRule } from '../../test/fixtures';
import { jsonResponse, problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { NewRulePage } from './NewRulePage';

const NEW = { url: '/admin/alerts/new', path: '/admin/alerts/new' };
const form = () => screen.getByRole('form', { name: 'Alert rule' });
const field = (label: string) => within(form()).getByLabelText(label, { exact: true });

describe('NewRulePage', () => {
  it('takes the filter from the address and says what it matches', async () => {
    stubApi({});
    renderWithProviders(<NewRulePage />, { ...NEW, url: '/admin/alerts/new?filter=flag%3Dany%26module%3Dbooking' });
    expect(field('Filter')).toHaveValue('flag=any&module=booking');
    const preview = screen.getByTestId('filter-preview');
    expect(within(preview).getByRole('list', { name: 'What the filter matches' })).toHaveTextContent(
      'Flagged: Any flagType: Booking',
    );
    expect(within(preview).getByRole('link', { name: 'See the activity it matches' })).toHaveAttribute(
      'href',
      '/?flag=any&module=booking',
    );

    await userEvent.setup().type(field('Filter'), '&range=today');
    expect(screen.getByTestId('filter-problems')).toHaveTextContent('range: not a filter of a rule');
    fireEvent.change(field('Filter'), { target: { value: '' } });
    expect(within(screen.getByTestId('filter-preview')).getByText('Every event')).toBeInTheDocument();
  });

  it('asks for a name and a URL before calling the server', async () => {
    const requests = stubApi({});
    const user = userEvent.setup();
    renderWithProviders(<NewRulePage />, NEW);
    await user.click(screen.getByRole('button', { name: 'Create rule' }));
    expect(field('Name')).toHaveAccessibleDescription('Enter a name, e.g. what the rule watches for.');
    expect(field('Webhook URL')).toHaveAttribute('aria-invalid', 'true');
    expect(field('Webhook URL')).toHaveAccessibleDescription(/^Enter the URL the deliveries are posted to\./);
    expect(requests).toHaveLength(0);
  });

  it('shows the server’s messages beside their fields', async () => {
    stubApi({
      '/api/v1/alerts/rules': () =>
        problem(422, 'Validation failed', '/filter: …', [
          { pointer: '/filter', message: '`range` is not a filter of an alert rule: a rule looks at each event as it is stored' },
          { pointer: '/destination/type', message: 'e-mail alerts need an SMTP server: this server has no SMTP_URL set' },
          { pointer: '/destination/to/1', message: 'must be an e-mail address' },
          { pointer: '/batch/max_seconds', message: 'must be between 0 and 3600' },
        ]),
    });
    const user = userEvent.setup();
    renderWithProviders(<NewRulePage />, { ...NEW, url: '/admin/alerts/new?filter=range%3Dtoday' });
    await user.type(field('Name'), 'Digest');
    await user.click(within(form()).getByRole('radio', { name: 'E-mail' }));
    expect(field('Most events per delivery')).toHaveValue(100);
    expect(field('Longest wait (seconds)')).toHaveValue(60);
    await user.type(field('Recipients'), 'ann@example.com\nbob@example');
    await user.click(screen.getByRole('button', { name: 'Create rule' }));

    expect(await within(form()).findByRole('alert')).toHaveTextContent('Check the highlighted fields.');
    expect(field('Filter')).toHaveAttribute('aria-invalid', 'true');
    expect(field('Filter')).toHaveAccessibleDescription(/`range` is not a filter of an alert rule/);
    expect(within(form()).getByRole('radiogroup', { name: 'Send to' })).toHaveAccessibleDescription(
      'e-mail alerts need an SMTP server: this server has no SMTP_URL set',
    );
    expect(field('Recipients')).toHaveAccessibleDescription(/^“bob@example”: must be an e-mail address/);
    expect(field('Longest wait (seconds)')).toHaveAccessibleDescription('must be between 0 and 3600');
  });

  it('makes a weekly digest: no batching, the filter narrows the summary, and the schedule is sent', async () => {
    let body: unknown;
    stubApi({
      '/api/v1/alerts/rules': async (_url, request) => {
        body = await request.json();
        return jsonResponse(201, { rule: makeAlertRule({ id: 13, schedule: 'weekly' }), secret: 'whsec_d2Vla2x5' });
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<NewRulePage />, { ...NEW, url: '/admin/alerts/new?filter=module%3Dbooking' });
    const sends = within(form()).getByRole('radiogroup', { name: 'What it sends' });
    expect(within(sends).getByRole('radio', { name: 'Each matching event' })).toBeChecked();
    expect(within(sends).getByRole('radio', { name: 'Daily digest' })).toHaveAccessibleDescription(
      'A summary of the day, each morning at 07:00 (tenant time).',
    );
    expect(within(sends).getByRole('radio', { name: 'Weekly digest' })).toHaveAccessibleDescription(
      'A summary of the week, each Monday at 07:00 (tenant time).',
    );
    expect(within(form()).getByRole('group', { name: 'Batching' })).toBeInTheDocument();

    await user.click(within(sends).getByRole('radio', { name: 'Weekly digest' }));
    expect(within(sends).getByRole('radio', { name: 'Weekly digest' })).toBeChecked();
    expect(within(form()).queryByRole('group', { name: 'Batching' })).toBeNull();
    expect(within(form()).queryByLabelText('Most events per delivery')).toBeNull();
    expect(field('Filter')).toHaveAccessibleDescription(/It narrows what the digest sums up/);
    expect(sends).toHaveTextContent('batching does not apply');
    expect(field('Paused: send no digests until resumed')).not.toBeChecked();

    await user.type(field('Name'), 'Weekly bookings');
    await user.type(field('Webhook URL'), 'https://hooks.example.com/in');
    await user.click(screen.getByRole('button', { name: 'Create rule' }));
    await screen.findByTestId('rule-secret');
    expect(body).toEqual({
      name: 'Weekly bookings',
      filter: 'module=booking',
      destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'json', headers: [] },
      schedule: 'weekly',
      paused: false,
    });
  });

  it('creates the rule, shows its secret until the admin has copied it, then opens the rule', async () => {
    let body: unknown;
    const rule = makeAlertRule({ id: 12, name: 'Deletions', filter: 'verb=deleted' });
    stubApi({
      '/api/v1/alerts/rules': async (_url, request) => {
        body = await request.json();
        return jsonResponse(201, { rule, secret: 'whsec_c2VjcmV0LXNob3duLW9uY2U=' });
      },
    });
    const user = userEvent.setup();
    const { router } = renderWithProviders(<NewRulePage />, { ...NEW, url: '/admin/alerts/new?filter=verb%3Ddeleted' });
    await user.type(field('Name'), 'Deletions');
    await user.type(field('Webhook URL'), 'https://hooks.example.com/in');
    await user.selectOptions(field('Body format'), 'ndjson');
    await user.click(within(form()).getByRole('button', { name: 'Add header' }));
    await user.type(within(form()).getByLabelText('Header name'), 'Authorization');
    await user.type(within(form()).getByLabelText('Header value'), 'Bearer abc');
    await user.click(field('Paused: match no events until resumed'));
    await user.click(screen.getByRole('button', { name: 'Create rule' }));

    const dialog = await screen.findByTestId('rule-secret');
    expect(body).toEqual({
      name: 'Deletions',
      filter: 'verb=deleted',
      destination: {
        type: 'webhook',
        url: 'https://hooks.example.com/in',
        format: 'ndjson',
        headers: [{ name: 'Authorization', value: 'Bearer abc' }],
      },
      batch: { max_events: 1, max_seconds: 0 },
      paused: true,
    });
    expect(within(dialog).getByLabelText('Signing secret')).toHaveValue('whsec_c2VjcmV0LXNob3duLW9uY2U=');
    expect(within(dialog).queryByRole('button', { name: 'Close' })).toBeNull();

    // Esc does not close it: it says why, and points at the way out.
    fireEvent(dialog, new Event('cancel', { cancelable: true }));
    expect(screen.getByTestId('rule-secret')).toBeInTheDocument();
    expect(within(dialog).getByRole('alert')).toHaveTextContent('Copy the secret first, then choose “I have copied it”');
    expect(within(dialog).getByRole('button', { name: 'I have copied it' })).toHaveFocus();

    await user.click(within(dialog).getByRole('button', { name: 'I have copied it' }));
    expect(router.state.location.pathname).toBe('/admin/alerts/12');
    expect(screen.queryByTestId('rule-secret')).toBeNull();
  });
});
