import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError, type AlertRuleInput, type AlertSchedule, type BodyFormat } from '../../api';
import { Button } from '../../components/Button';
import { errorMessage } from '../../components/errorMessage';
import { SelectField, TextAreaField, TextField } from '../../components/Field';
import { Alert } from '../../components/States';
import { FilterChips } from './badges';
import {
  MAX_BATCH_EVENTS,
  MAX_BATCH_SECONDS,
  MAX_HEADERS,
  MAX_RECIPIENTS,
  parseRecipients,
  SCHEDULE_LABELS,
  toRuleInput,
  validateDraft,
  withType,
  type DestinationType,
  type HeaderRow,
  type RuleDraft,
} from './ruleDraft';
import { describeFilter, normaliseFilter } from './ruleFilter';

/** The request members whose problems the form shows beside a field. */
const SHOWN_UNDER = ['/name', '/schedule', '/filter', '/destination', '/batch', '/paused'];

/** What a rule sends: an alert per matching event, or a digest (`schedule`). */
const SENDS_OPTIONS: { value: AlertSchedule | null; label: string; hint: string }[] = [
  { value: null, label: 'Each matching event', hint: 'An alert for each new event the filter matches, as it is stored.' },
  { value: 'daily', label: SCHEDULE_LABELS.daily, hint: 'A summary of the day, each morning at 07:00 (tenant time).' },
  { value: 'weekly', label: SCHEDULE_LABELS.weekly, hint: 'A summary of the week, each Monday at 07:00 (tenant time).' },
];

const FORMAT_OPTIONS: { value: BodyFormat; label: string }[] = [
  { value: 'json', label: 'JSON: one object per delivery' },
  { value: 'ndjson', label: 'NDJSON: one line per event' },
];

const under = (pointer: string, prefix: string) => pointer === prefix || pointer.startsWith(`${prefix}/`);

/** The sentence above a refused form: the fields say what is wrong when they can. */
function formProblem(error: unknown): string {
  if (error instanceof ApiError && error.fieldErrors.length > 0) {
    if (error.fieldErrors.every((e) => SHOWN_UNDER.some((prefix) => under(e.pointer, prefix)))) {
      return 'Check the highlighted fields.';
    }
  }
  return errorMessage(error);
}

export interface RuleFormProps {
  initial: RuleDraft;
  /** The names of the headers the rule has now (editing a webhook rule); their values are never shown. */
  headerNames?: string[];
  submitLabel: string;
  pendingLabel: string;
  pending: boolean;
  /** The failed save: a 422's messages are shown beside their fields. */
  error: unknown;
  onSubmit: (input: AlertRuleInput) => void;
  /** Any change to the form (e.g. to clear a "Saved" notice). */
  onEdit?: () => void;
  /** More buttons beside the submit button (e.g. Cancel). */
  actions?: ReactNode;
}

/** An alert rule's fields: name, what it sends (each event or a digest), filter, destination, batching and pause. */
export function RuleForm({
  initial,
  headerNames = [],
  submitLabel,
  pendingLabel,
  pending,
  error,
  onSubmit,
  onEdit,
  actions,
}: RuleFormProps) {
  const id = useId();
  const [draft, setDraft] = useState<RuleDraft>(initial);
  const [checked, setChecked] = useState(false);

  const local = checked ? validateDraft(draft) : {};
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : [];
  /** The server's messages at `pointer` (or, with `deep`, below it too). */
  const server = (pointer: string, deep = false) =>
    fieldErrors.filter((e) => (deep ? under(e.pointer, pointer) : e.pointer === pointer)).map((e) => e.message);
  const first = (...messages: (string | undefined | null)[]) => messages.find(Boolean) ?? null;
  const errorFor = (pointer: string) => first(local[pointer], ...server(pointer));

  // A destination the server could not read at all is refused as a whole (`/destination`).
  const destinationError = server('/destination');
  const urlError = first(local['/destination/url'], ...server('/destination/url'), ...destinationError);
  const recipients = parseRecipients(draft.recipients);
  const recipientsError = first(
    local['/destination/to'],
    ...server('/destination/to'),
    ...fieldErrors
      .filter((e) => /^\/destination\/to\/\d+$/.test(e.pointer))
      .map((e) => {
        const address = recipients[Number(e.pointer.split('/').pop())];
        return address ? `“${address}”: ${e.message}` : e.message;
      }),
    ...destinationError,
  );
  const scheduleError = errorFor('/schedule');
  const typeError = errorFor('/destination/type');
  const headersError = errorFor('/destination/headers');
  const batchEventsError = first(local['/batch/max_events'], ...server('/batch/max_events'), ...server('/batch'));

  const set = (patch: Partial<RuleDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    onEdit?.();
  };
  const setHeader = (index: number, patch: Partial<HeaderRow>) =>
    set({ headers: draft.headers.map((row, i) => (i === index ? { ...row, ...patch } : row)) });

  const onFormSubmit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (Object.keys(validateDraft(draft)).length === 0) onSubmit(toRuleInput(draft));
  };

  const filterParts = describeFilter(draft.filter);
  const filterText = normaliseFilter(draft.filter);

  return (
    <form className="stack rule-form" onSubmit={onFormSubmit} noValidate aria-label="Alert rule">
      <TextField
        label="Name"
        name="name"
        required
        maxLength={100}
        value={draft.name}
        error={errorFor('/name')}
        onChange={(e) => set({ name: e.target.value })}
      />

      <fieldset
        className="fieldset rule-form__group"
        role="radiogroup"
        aria-labelledby={`${id}-sends`}
        aria-describedby={scheduleError ? `${id}-schedule-error` : undefined}
      >
        <legend id={`${id}-sends`} className="review-settings__legend">
          What it sends
        </legend>
        {SENDS_OPTIONS.map(({ value, label, hint }) => {
          const hintId = `${id}-sends-${value ?? 'events'}`;
          return (
            <div key={value ?? 'events'}>
              <label className="row rule-form__choice">
                <input
                  type="radio"
                  name="schedule"
                  value={value ?? 'events'}
                  checked={draft.schedule === value}
                  aria-describedby={hintId}
                  onChange={() => set({ schedule: value })}
                />
                <span>{label}</span>
              </label>
              <span id={hintId} className="field__hint muted rule-form__choice-hint">
                {hint}
              </span>
            </div>
          );
        })}
        {draft.schedule && (
          <p className="muted review-settings__hint">
            A digest counts the period’s events by module and its flagged events by kind, lists the deletions and exports with who
            made them, and gives the integrity status. It matches no single event, so batching does not apply.
          </p>
        )}
        {scheduleError && (
          <span id={`${id}-schedule-error`} className="field__error">
            {scheduleError}
          </span>
        )}
      </fieldset>

      <div className="stack rule-form__group">
        <TextField
          label="Filter"
          name="filter"
          className="input mono"
          autoComplete="off"
          spellCheck={false}
          placeholder="e.g. flag=any&module=booking"
          value={draft.filter}
          error={errorFor('/filter')}
          hint={
            draft.schedule ? (
              <>
                The activity list’s filters as in its address, e.g. <code>flag=any&amp;module=booking</code>. It narrows what the
                digest sums up; empty: all activity. The digest covers its own day or week, so the filter takes no dates.
              </>
            ) : (
              <>
                The activity list’s filters as in its address, e.g. <code>flag=any&amp;module=booking</code>. Empty: every event.
                A rule checks each event as it is stored, so it takes no dates.
              </>
            )
          }
          onChange={(e) => set({ filter: e.target.value })}
        />
        <div className="filter-preview" data-testid="filter-preview">
          <span className="field__label">Matches</span>
          <FilterChips filter={draft.filter} label="What the filter matches" />
          {filterText && filterParts.length > 0 && filterParts.every((p) => !p.problem) && (
            <Link to={`/?${filterText}`} target="_blank" rel="noreferrer">
              See the activity it matches
            </Link>
          )}
        </div>
        {filterParts.some((p) => p.problem) && (
          <ul className="filter-problems" data-testid="filter-problems">
            {filterParts
              .filter((p) => p.problem)
              .map((p, index) => (
                <li key={`${p.key}-${index}`}>
                  <strong>{p.key || p.label}</strong>: {p.problem}
                </li>
              ))}
          </ul>
        )}
      </div>

      <fieldset className="fieldset rule-form__group">
        <legend className="review-settings__legend">Destination</legend>
        <div role="radiogroup" aria-label="Send to" className="row" aria-describedby={typeError ? `${id}-type-error` : undefined}>
          {(
            [
              ['webhook', 'Webhook'],
              ['email', 'E-mail'],
            ] as [DestinationType, string][]
          ).map(([value, label]) => (
            <label key={value} className="row rule-form__choice">
              <input
                type="radio"
                name="destination-type"
                value={value}
                checked={draft.type === value}
                onChange={() => set(withType(draft, value))}
              />
              <span>{label}</span>
            </label>
          ))}
        </div>
        {typeError && (
          <span id={`${id}-type-error`} className="field__error">
            {typeError}
          </span>
        )}

        {draft.type === 'webhook' ? (
          <>
            <TextField
              label="Webhook URL"
              name="url"
              type="url"
              inputMode="url"
              autoComplete="off"
              placeholder="https://collector.example.com/hooks/activity"
              value={draft.url}
              error={urlError}
              hint="Each delivery is an HTTP POST to this address, signed with the rule’s secret."
              onChange={(e) => set({ url: e.target.value })}
            />
            <SelectField
              label="Body format"
              name="format"
              fieldClassName="rule-form__format"
              options={FORMAT_OPTIONS}
              value={draft.format}
              onChange={(e) => set({ format: e.target.value as BodyFormat })}
            />
            {errorFor('/destination/format') && <span className="field__error">{errorFor('/destination/format')}</span>}
            <HeadersEditor
              draft={draft}
              headerNames={headerNames}
              error={headersError}
              errorFor={(index, member) =>
                first(errorFor(`/destination/headers/${index}/${member}`), ...server(`/destination/headers/${index}`))
              }
              onKeep={() => set({ headersMode: 'keep', headers: [] })}
              onReplace={() => set({ headersMode: 'replace', headers: headerNames.map((name) => ({ name, value: '' })) })}
              onAdd={() => set({ headers: [...draft.headers, { name: '', value: '' }] })}
              onRemove={(index) => set({ headers: draft.headers.filter((_, i) => i !== index) })}
              onChange={setHeader}
            />
          </>
        ) : (
          <TextAreaField
            label="Recipients"
            name="recipients"
            rows={3}
            autoComplete="off"
            spellCheck={false}
            placeholder={'security@example.com\nops@example.com'}
            value={draft.recipients}
            error={recipientsError}
            hint={`One address per line, or separated by commas; up to ${MAX_RECIPIENTS}. A plain-text message goes to each.`}
            onChange={(e) => set({ recipients: e.target.value })}
          />
        )}
      </fieldset>

      {!draft.schedule && (
        <fieldset className="fieldset rule-form__group">
          <legend className="review-settings__legend">Batching</legend>
          <p className="muted review-settings__hint">
            A delivery goes out once it holds this many events, or once its first event has waited this long. 1 and 0 send each
            event at once (a webhook’s default); e-mail gathers up to 100 events a minute.
          </p>
          <div className="row review-settings__fields">
            <TextField
              label="Most events per delivery"
              name="max_events"
              type="number"
              inputMode="numeric"
              min={1}
              max={MAX_BATCH_EVENTS}
              fieldClassName="field--narrow"
              value={draft.maxEvents}
              error={batchEventsError}
              onChange={(e) => set({ maxEvents: e.target.value, batchEdited: true })}
            />
            <TextField
              label="Longest wait (seconds)"
              name="max_seconds"
              type="number"
              inputMode="numeric"
              min={0}
              max={MAX_BATCH_SECONDS}
              fieldClassName="field--narrow"
              value={draft.maxSeconds}
              error={errorFor('/batch/max_seconds')}
              onChange={(e) => set({ maxSeconds: e.target.value, batchEdited: true })}
            />
          </div>
        </fieldset>
      )}

      <div className="stack rule-form__group" style={{ gap: 4 }}>
        <label className="row">
          <input type="checkbox" name="paused" checked={draft.paused} onChange={(e) => set({ paused: e.target.checked })} />
          <span>{draft.schedule ? 'Paused: send no digests until resumed' : 'Paused: match no events until resumed'}</span>
        </label>
        {errorFor('/paused') && <span className="field__error">{errorFor('/paused')}</span>}
      </div>

      {error != null && <Alert>{formProblem(error)}</Alert>}
      <div className="row">
        <Button type="submit" variant="primary" disabled={pending}>
          {pending ? pendingLabel : submitLabel}
        </Button>
        {actions}
      </div>
    </form>
  );
}

interface HeadersEditorProps {
  draft: RuleDraft;
  headerNames: string[];
  error: string | null;
  errorFor: (index: number, member: 'name' | 'value') => string | null;
  onKeep: () => void;
  onReplace: () => void;
  onAdd: () => void;
  onRemove: (index: number) => void;
  onChange: (index: number, patch: Partial<HeaderRow>) => void;
}

/**
 * A webhook's extra headers. Values are never shown again once saved: an existing rule keeps its
 * headers unless the admin chooses to replace them (and types the values again).
 */
function HeadersEditor({
  draft,
  headerNames,
  error,
  errorFor,
  onKeep,
  onReplace,
  onAdd,
  onRemove,
  onChange,
}: HeadersEditorProps) {
  const errorId = useId();
  const names = <span className="mono">{headerNames.join(', ')}</span>;
  return (
    <fieldset className="fieldset" aria-describedby={error ? errorId : undefined} data-testid="webhook-headers">
      <legend className="field__label">Headers (optional)</legend>
      {draft.headersMode === 'keep' ? (
        <>
          <p className="muted" style={{ margin: 0 }}>
            Sent with every delivery: {names}. Their values are not shown again; they are kept unless you replace them.
          </p>
          <div>
            <Button size="small" onClick={onReplace}>
              Replace headers
            </Button>
          </div>
        </>
      ) : (
        <>
          {headerNames.length > 0 ? (
            <p className="muted" style={{ margin: 0 }}>
              When you save, these replace the current headers ({names}): type their values again, or remove them.{' '}
              <Button size="small" onClick={onKeep}>
                Keep the current headers
              </Button>
            </p>
          ) : (
            <p className="muted" style={{ margin: 0 }}>
              Sent with every delivery, e.g. a collector’s token. Up to {MAX_HEADERS}; values are not shown again after saving.
            </p>
          )}
          {draft.headers.map((row, index) => (
            <fieldset key={index} className="header-row">
              <legend className="visually-hidden">Header {index + 1}</legend>
              <TextField
                label="Header name"
                autoComplete="off"
                spellCheck={false}
                className="input mono"
                placeholder="Authorization"
                value={row.name}
                error={errorFor(index, 'name')}
                onChange={(e) => onChange(index, { name: e.target.value })}
              />
              <TextField
                label="Header value"
                autoComplete="off"
                spellCheck={false}
                className="input mono"
                value={row.value}
                error={errorFor(index, 'value')}
                onChange={(e) => onChange(index, { value: e.target.value })}
              />
              <Button size="small" aria-label={`Remove header ${index + 1}`} onClick={() => onRemove(index)}>
                Remove
              </Button>
            </fieldset>
          ))}
          <div>
            <Button size="small" disabled={draft.headers.length >= MAX_HEADERS} onClick={onAdd}>
              Add header
            </Button>
          </div>
        </>
      )}
      {error && (
        <span id={errorId} className="field__error">
          {error}
        </span>
      )}
    </fieldset>
  );
}
