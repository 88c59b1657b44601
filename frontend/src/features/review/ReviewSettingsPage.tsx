import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, type ReviewSettings } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage, formErrorMessage } from '../../components/errorMessage';
import { TextField } from '../../components/Field';
import { Skeleton } from '../../components/Skeleton';
import { Alert, ErrorState } from '../../components/States';
import { useCurrentUser } from '../auth/authContext';
import { flagLabel } from './flagKinds';
import { reviewKeys, useReviewSettings } from './queries';

export const WEEKDAYS = [
  { value: 1, label: 'Monday', short: 'Mon' },
  { value: 2, label: 'Tuesday', short: 'Tue' },
  { value: 3, label: 'Wednesday', short: 'Wed' },
  { value: 4, label: 'Thursday', short: 'Thu' },
  { value: 5, label: 'Friday', short: 'Fri' },
  { value: 6, label: 'Saturday', short: 'Sat' },
  { value: 7, label: 'Sunday', short: 'Sun' },
] as const;

type NumberField =
  'new_ip_days' | 'failed_logins' | 'failed_login_minutes' | 'bulk_delete_events' | 'bulk_export_rows' | 'bulk_export_minutes';

/** The upper bounds the server takes (docs/ALERTS.md), so the inputs offer no more. */
const MAXIMUM: Record<NumberField, number> = {
  new_ip_days: 3650,
  failed_logins: 1000,
  failed_login_minutes: 1440,
  bulk_delete_events: 1_000_000,
  bulk_export_rows: 1_000_000_000,
  bulk_export_minutes: 1440,
};
const NUMBER_FIELDS = Object.keys(MAXIMUM) as NumberField[];
const FIELDS = ['working_days', 'day_starts', 'day_ends', ...NUMBER_FIELDS, 'log_views'];

const byNumber = (a: number, b: number) => a - b;

/** How the server writes the end of the day (`day_ends` only). */
const END_OF_DAY = '24:00';

/** The form's state: numbers as typed, so a half-typed one is not turned into something else. */
type Draft = Omit<ReviewSettings, NumberField> & Record<NumberField, string>;

function toDraft(settings: ReviewSettings): Draft {
  const numbers = Object.fromEntries(NUMBER_FIELDS.map((f) => [f, String(settings[f])])) as Record<NumberField, string>;
  return { ...settings, ...numbers, working_days: [...settings.working_days].sort(byNumber) };
}

function toSettings(draft: Draft): ReviewSettings {
  const numbers = Object.fromEntries(NUMBER_FIELDS.map((f) => [f, Number(draft[f])])) as Record<NumberField, number>;
  return { ...draft, ...numbers };
}

/**
 * What cannot be sent as it is, by API field. Ranges and the order of the times are the server's
 * to judge: its 422 names the field.
 */
function validate(draft: Draft): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of ['day_starts', 'day_ends'] as const) {
    if (!/^\d{2}:\d{2}$/.test(draft[field])) errors[field] = 'Enter a time, e.g. 07:00.';
  }
  for (const field of NUMBER_FIELDS) {
    const n = Number(draft[field]);
    if (!draft[field].trim() || !Number.isInteger(n) || n < 1) errors[field] = 'Enter a whole number, 1 or more.';
  }
  return errors;
}

/** The server's message about `field` or a member of it (`/working_days/2`). */
function serverErrorOf(error: unknown, field: string): string | null {
  if (!(error instanceof ApiError)) return null;
  const pointer = `/${field}`;
  return error.fieldErrors.find((e) => e.pointer === pointer || e.pointer.startsWith(`${pointer}/`))?.message ?? null;
}

/** "Mon–Fri", "Mon, Wed, Sat", as the server words its reasons. */
export function describeWorkingDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].sort(byNumber);
  if (sorted.length === 0) return 'No working days';
  const short = (d: number) => WEEKDAYS.find((w) => w.value === d)?.short ?? String(d);
  const consecutive = sorted.at(-1)! - sorted[0] + 1 === sorted.length;
  if (consecutive && sorted.length > 2) return `${short(sorted[0])}–${short(sorted.at(-1)!)}`;
  return sorted.map(short).join(', ');
}

export function describeBusinessHours(settings: ReviewSettings): string {
  return `Business hours are ${describeWorkingDays(settings.working_days)}, ${settings.day_starts}–${settings.day_ends}.`;
}

function ReviewSettingsForm({ settings }: { settings: ReviewSettings }) {
  const queryClient = useQueryClient();
  const { tenant } = useCurrentUser();
  const [draft, setDraft] = useState<Draft>(() => toDraft(settings));
  const [checked, setChecked] = useState(false);
  // The end time to go back to when "Until midnight" is unticked.
  const [endBeforeMidnight, setEndBeforeMidnight] = useState(settings.day_ends === END_OF_DAY ? '20:00' : settings.day_ends);
  const untilMidnight = draft.day_ends === END_OF_DAY;
  const saving = useMutation({
    mutationFn: (next: ReviewSettings) => api.setReviewSettings(next),
    onSuccess: (saved) => {
      queryClient.setQueryData(reviewKeys.settings, saved);
      // Show what the server kept, not what was typed.
      setDraft(toDraft(saved));
      setChecked(false);
    },
  });

  const local = checked ? validate(draft) : {};
  const errorFor = (field: string) => local[field] ?? serverErrorOf(saving.error, field);
  const daysError = errorFor('working_days');

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    if (saving.isSuccess) saving.reset();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(validate(draft)).length === 0) saving.mutate(toSettings(draft));
  };

  const numberField = (field: NumberField, label: string) => (
    <TextField
      label={label}
      name={field}
      type="number"
      inputMode="numeric"
      min={1}
      max={MAXIMUM[field]}
      fieldClassName="field--narrow"
      value={draft[field]}
      error={errorFor(field)}
      onChange={(e) => set(field, e.target.value)}
    />
  );

  return (
    <form className="stack review-settings" onSubmit={onSubmit} noValidate aria-label="Review settings">
      <p style={{ margin: 0 }} data-testid="review-settings-current">
        <strong>Now:</strong> {describeBusinessHours(settings)}{' '}
        {settings.log_views ? 'Opening an event’s details is recorded.' : 'Opening an event’s details is not recorded.'}
      </p>

      <fieldset className="fieldset">
        <legend className="review-settings__legend">{flagLabel('odd_hours')}</legend>
        <p className="muted review-settings__hint">
          Activity outside these days and hours, in the organisation’s time zone ({tenant.timezone}), is flagged. An event at the
          closing minute is outside.
        </p>
        <fieldset className="fieldset" aria-describedby={daysError ? 'review-days-error' : undefined}>
          <legend className="field__label">Working days</legend>
          <div className="row">
            {WEEKDAYS.map((day) => (
              <label key={day.value} className="row review-settings__day">
                <input
                  type="checkbox"
                  name="working_days"
                  value={day.value}
                  checked={draft.working_days.includes(day.value)}
                  onChange={(e) =>
                    set(
                      'working_days',
                      e.target.checked
                        ? [...draft.working_days, day.value].sort(byNumber)
                        : draft.working_days.filter((d) => d !== day.value),
                    )
                  }
                />
                <span>{day.label}</span>
              </label>
            ))}
          </div>
          {daysError && (
            <span id="review-days-error" className="field__error">
              {daysError}
            </span>
          )}
        </fieldset>
        <div className="row review-settings__fields">
          <TextField
            label="Working day starts"
            name="day_starts"
            type="time"
            required
            fieldClassName="field--narrow"
            value={draft.day_starts}
            error={errorFor('day_starts')}
            onChange={(e) => set('day_starts', e.target.value)}
          />
          <TextField
            label="Working day ends"
            name="day_ends"
            type="time"
            required={!untilMidnight}
            disabled={untilMidnight}
            fieldClassName="field--narrow"
            value={untilMidnight ? '' : draft.day_ends}
            error={errorFor('day_ends')}
            onChange={(e) => set('day_ends', e.target.value)}
          />
          <label className="row review-settings__day review-settings__midnight">
            <input
              type="checkbox"
              name="until_midnight"
              checked={untilMidnight}
              onChange={(e) => {
                if (e.target.checked) {
                  setEndBeforeMidnight(draft.day_ends);
                  set('day_ends', END_OF_DAY);
                } else {
                  set('day_ends', endBeforeMidnight);
                }
              }}
            />
            <span>Until midnight</span>
          </label>
        </div>
      </fieldset>

      <fieldset className="fieldset">
        <legend className="review-settings__legend">
          {flagLabel('new_ip')} and {flagLabel('new_user_agent').toLowerCase()}
        </legend>
        <p className="muted review-settings__hint">A network or browser not seen from a user for this long is new again.</p>
        <div className="row review-settings__fields">{numberField('new_ip_days', 'Remembered for (days)')}</div>
      </fieldset>

      <fieldset className="fieldset">
        <legend className="review-settings__legend">{flagLabel('failed_login_burst')}</legend>
        <div className="row review-settings__fields">
          {numberField('failed_logins', 'Failed sign-ins')}
          {numberField('failed_login_minutes', 'Sign-in window (minutes)')}
        </div>
      </fieldset>

      <fieldset className="fieldset">
        <legend className="review-settings__legend">{flagLabel('bulk_delete')}</legend>
        <div className="row review-settings__fields">{numberField('bulk_delete_events', 'Events deleted at once')}</div>
      </fieldset>

      <fieldset className="fieldset">
        <legend className="review-settings__legend">{flagLabel('bulk_export')}</legend>
        <div className="row review-settings__fields">
          {numberField('bulk_export_rows', 'Rows exported')}
          {numberField('bulk_export_minutes', 'Export window (minutes)')}
        </div>
      </fieldset>

      <fieldset className="fieldset">
        <legend className="review-settings__legend">Reads of the log</legend>
        <label className="row">
          <input
            type="checkbox"
            name="log_views"
            checked={draft.log_views}
            onChange={(e) => set('log_views', e.target.checked)}
          />
          <span>Record who opens an event’s details</span>
        </label>
        {errorFor('log_views') && <span className="field__error">{errorFor('log_views')}</span>}
      </fieldset>

      <p className="muted" style={{ margin: 0 }}>
        Changes apply to events stored from now on: flags already raised stay as they are.
      </p>
      {saving.isError && <Alert>{formErrorMessage(saving.error, FIELDS)}</Alert>}
      {saving.isSuccess && <Alert tone="info">Saved. {describeBusinessHours(saving.data)}</Alert>}
      <div>
        <Button type="submit" variant="primary" disabled={saving.isPending}>
          {saving.isPending ? 'Saving…' : 'Save settings'}
        </Button>
      </div>
    </form>
  );
}

/** What the tenant's flags take as unusual (admins only; docs/ALERTS.md). */
export function ReviewSettingsPage() {
  const settings = useReviewSettings();
  return (
    <main className="page">
      <div className="page-title">
        <h1>Review settings</h1>
        <span className="muted">What the security review flags as unusual</span>
      </div>
      <section className="card admin-section">
        {settings.isPending && (
          <div className="stack" aria-busy="true" aria-label="Loading the review settings">
            <Skeleton width="40%" />
            <Skeleton width="60%" />
          </div>
        )}
        {settings.isError && (
          <ErrorState
            title="The review settings could not be loaded"
            message={errorMessage(settings.error)}
            onRetry={() => settings.refetch()}
          />
        )}
        {settings.isSuccess && <ReviewSettingsForm settings={settings.data} />}
      </section>
    </main>
  );
}
