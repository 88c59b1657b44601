import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { ReviewSettings } from '../../api';
import { problem, renderWithProviders, stubApi } from '../../test/renderWithProviders';
import { describeWorkingDays, ReviewSettingsPage } from './ReviewSettingsPage';

const defaults: ReviewSettings = {
  working_days: [1, 2, 3, 4, 5],
  day_starts: '07:00',
  day_ends: '20:00',
  new_ip_days: 90,
  failed_logins: 5,
  failed_login_minutes: 15,
  bulk_delete_events: 100,
  bulk_export_rows: 10000,
  bulk_export_minutes: 60,
  log_views: true,
};

const form = () => screen.getByRole('form', { name: 'Review settings' });
const field = (label: string) => within(form()).getByLabelText(label);

describe('ReviewSettingsPage', () => {
  it('shows every setting as the server has it', async () => {
    stubApi({ '/api/v1/settings/review': () => defaults });
    renderWithProviders(<ReviewSettingsPage />);
    expect(screen.getByLabelText('Loading the review settings')).toHaveAttribute('aria-busy', 'true');
    expect(await screen.findByTestId('review-settings-current')).toHaveTextContent(
      'Now: Business hours are Mon–Fri, 07:00–20:00. Opening an event’s details is recorded.',
    );
    for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']) {
      expect(within(form()).getByRole('checkbox', { name: day })).toBeChecked();
    }
    expect(within(form()).getByRole('checkbox', { name: 'Saturday' })).not.toBeChecked();
    expect(within(form()).getByRole('checkbox', { name: 'Sunday' })).not.toBeChecked();
    expect(field('Working day starts')).toHaveValue('07:00');
    expect(field('Working day ends')).toHaveValue('20:00');
    expect(field('Remembered for (days)')).toHaveValue(90);
    expect(field('Failed sign-ins')).toHaveValue(5);
    expect(field('Sign-in window (minutes)')).toHaveValue(15);
    expect(field('Events deleted at once')).toHaveValue(100);
    expect(field('Rows exported')).toHaveValue(10000);
    expect(field('Export window (minutes)')).toHaveValue(60);
    for (const label of ['Remembered for (days)', 'Failed sign-ins', 'Rows exported']) {
      expect(field(label)).toHaveAttribute('min', '1');
    }
    expect(within(form()).getByRole('checkbox', { name: 'Record who opens an event’s details' })).toBeChecked();
  });

  it('saves every field with PUT, says so, and shows what the server kept', async () => {
    let sent: unknown;
    stubApi({
      '/api/v1/settings/review': async (_url, request) => {
        if (request.method !== 'PUT') return defaults;
        sent = await request.json();
        // The server answers with the settings it stored.
        return { ...(sent as ReviewSettings), failed_logins: 8 };
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<ReviewSettingsPage />);
    await screen.findByTestId('review-settings-current');
    await user.click(within(form()).getByRole('checkbox', { name: 'Saturday' }));
    await user.click(within(form()).getByRole('checkbox', { name: 'Monday' }));
    fireEvent.change(field('Working day starts'), { target: { value: '08:30' } });
    fireEvent.change(field('Working day ends'), { target: { value: '18:00' } });
    await user.clear(field('Failed sign-ins'));
    await user.type(field('Failed sign-ins'), '7');
    await user.clear(field('Rows exported'));
    await user.type(field('Rows exported'), '5000');
    await user.click(within(form()).getByRole('checkbox', { name: 'Record who opens an event’s details' }));
    await user.click(within(form()).getByRole('button', { name: 'Save settings' }));

    expect(await within(form()).findByRole('status')).toHaveTextContent('Saved. Business hours are Tue–Sat, 08:30–18:00.');
    expect(sent).toEqual({
      ...defaults,
      working_days: [2, 3, 4, 5, 6],
      day_starts: '08:30',
      day_ends: '18:00',
      failed_logins: 7,
      bulk_export_rows: 5000,
      log_views: false,
    });
    expect(field('Failed sign-ins')).toHaveValue(8);
    expect(screen.getByTestId('review-settings-current')).toHaveTextContent(
      'Now: Business hours are Tue–Sat, 08:30–18:00. Opening an event’s details is not recorded.',
    );
  });

  it('sets the working day to end at midnight, and back', async () => {
    const sent: ReviewSettings[] = [];
    stubApi({
      '/api/v1/settings/review': async (_url, request) => {
        if (request.method !== 'PUT') return { ...defaults, day_ends: '24:00' };
        sent.push((await request.json()) as ReviewSettings);
        return sent[sent.length - 1];
      },
    });
    const user = userEvent.setup();
    renderWithProviders(<ReviewSettingsPage />);
    expect(await screen.findByTestId('review-settings-current')).toHaveTextContent('Business hours are Mon–Fri, 07:00–24:00.');
    const midnight = within(form()).getByRole('checkbox', { name: 'Until midnight' });
    expect(midnight).toBeChecked();
    expect(field('Working day ends')).toBeDisabled();
    // Unticked, the end time comes back to a time that can be typed.
    await user.click(midnight);
    expect(field('Working day ends')).toBeEnabled();
    expect(field('Working day ends')).toHaveValue('20:00');
    fireEvent.change(field('Working day ends'), { target: { value: '22:15' } });
    await user.click(within(form()).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0].day_ends).toBe('22:15');
    // Ticked again, it saves as 24:00; unticked, the last typed time comes back.
    await user.click(midnight);
    await user.click(within(form()).getByRole('button', { name: 'Save settings' }));
    await waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1].day_ends).toBe('24:00');
    await user.click(midnight);
    expect(field('Working day ends')).toHaveValue('22:15');
  });

  it('shows a saving state while the PUT is under way', async () => {
    let answer!: (response: Response) => void;
    stubApi({
      '/api/v1/settings/review': (_url, request) =>
        request.method === 'PUT' ? new Promise<Response>((resolve) => (answer = resolve)) : defaults,
    });
    const user = userEvent.setup();
    renderWithProviders(<ReviewSettingsPage />);
    await screen.findByTestId('review-settings-current');
    await user.click(within(form()).getByRole('button', { name: 'Save settings' }));
    expect(await within(form()).findByRole('button', { name: 'Saving…' })).toBeDisabled();
    answer(new Response(JSON.stringify(defaults), { status: 200, headers: { 'Content-Type': 'application/json' } }));
    expect(await within(form()).findByRole('button', { name: 'Save settings' })).toBeEnabled();
  });

  it('shows the 422’s message next to the field it names', async () => {
    stubApi({
      '/api/v1/settings/review': (_url, request) =>
        request.method === 'PUT'
          ? problem(422, 'Validation failed', 'day_starts must be before day_ends', [
              { pointer: '/day_starts', message: 'day_starts must be before day_ends' },
            ])
          : defaults,
    });
    const user = userEvent.setup();
    renderWithProviders(<ReviewSettingsPage />);
    await screen.findByTestId('review-settings-current');
    fireEvent.change(field('Working day starts'), { target: { value: '21:00' } });
    await user.click(within(form()).getByRole('button', { name: 'Save settings' }));
    expect(await within(form()).findByText('day_starts must be before day_ends')).toBeInTheDocument();
    expect(field('Working day starts')).toHaveAttribute('aria-invalid', 'true');
    expect(field('Working day ends')).not.toHaveAttribute('aria-invalid');
    expect(within(form()).getByRole('alert')).toHaveTextContent('Check the highlighted fields.');
    // Nothing was saved: the current settings are unchanged.
    expect(screen.getByTestId('review-settings-current')).toHaveTextContent('07:00–20:00');
  });

  it('asks for whole numbers before sending anything', async () => {
    const requests = stubApi({ '/api/v1/settings/review': () => defaults });
    const user = userEvent.setup();
    renderWithProviders(<ReviewSettingsPage />);
    await screen.findByTestId('review-settings-current');
    await user.clear(field('Events deleted at once'));
    await user.click(within(form()).getByRole('button', { name: 'Save settings' }));
    expect(within(form()).getByText('Enter a whole number, 1 or more.')).toBeInTheDocument();
    expect(field('Events deleted at once')).toHaveAttribute('aria-invalid', 'true');
    await waitFor(() => expect(requests).toHaveLength(1));
  });

  it('offers a retry when the settings could not be loaded', async () => {
    let fail = true;
    stubApi({
      '/api/v1/settings/review': () => (fail ? problem(503, 'Service Unavailable', 'database unavailable') : defaults),
    });
    renderWithProviders(<ReviewSettingsPage />);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The review settings could not be loadeddatabase unavailable');
    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByTestId('review-settings-current')).toBeInTheDocument();
  });
});

describe('describeWorkingDays', () => {
  it('words a run of days as a range and anything else as a list', () => {
    expect(describeWorkingDays([5, 1, 2, 3, 4])).toBe('Mon–Fri');
    expect(describeWorkingDays([1, 3, 6])).toBe('Mon, Wed, Sat');
    expect(describeWorkingDays([6, 7])).toBe('Sat, Sun');
    expect(describeWorkingDays([])).toBe('No working days');
  });
});
