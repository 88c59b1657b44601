import type { AlertBatch, AlertRule, AlertRuleInput, AlertSchedule, BodyFormat } from '../../api';
import type { BadgeTone } from '../../components/badgeTones';
import { normaliseFilter } from './ruleFilter';

export type DestinationType = 'webhook' | 'email';

export interface HeaderRow {
  name: string;
  value: string;
}

/**
 * The rule form's state: texts as typed, so a half-typed number or address list is not turned
 * into something else before it is sent.
 */
export interface RuleDraft {
  name: string;
  /** A digest's schedule; `null`: an alert, each matching event. */
  schedule: AlertSchedule | null;
  filter: string;
  type: DestinationType;
  url: string;
  format: BodyFormat;
  /**
   * `keep`: the rule's stored headers stay (none are sent, and their values are never shown);
   * `replace`: `headers` become the rule's headers.
   */
  headersMode: 'keep' | 'replace';
  headers: HeaderRow[];
  /** E-mail addresses, one per line or separated by commas. */
  recipients: string;
  maxEvents: string;
  maxSeconds: string;
  /** Whether the batching was changed by hand (else it follows the destination's defaults). */
  batchEdited: boolean;
  paused: boolean;
}

/** The server's batching when a rule names none: each event at once for a webhook, a minute's worth by e-mail. */
export const BATCH_DEFAULTS: Record<DestinationType, AlertBatch> = {
  webhook: { max_events: 1, max_seconds: 0 },
  email: { max_events: 100, max_seconds: 60 },
};
/** What a digest is called, in the form and beside its name. */
export const SCHEDULE_LABELS: Record<AlertSchedule, string> = {
  daily: 'Daily digest',
  weekly: 'Weekly digest',
};
export const MAX_HEADERS = 5;
export const MAX_RECIPIENTS = 10;
export const MAX_BATCH_EVENTS = 1000;
export const MAX_BATCH_SECONDS = 3600;

export function emptyDraft(filter = ''): RuleDraft {
  return {
    name: '',
    schedule: null,
    filter,
    type: 'webhook',
    url: '',
    format: 'json',
    headersMode: 'replace',
    headers: [],
    recipients: '',
    maxEvents: String(BATCH_DEFAULTS.webhook.max_events),
    maxSeconds: String(BATCH_DEFAULTS.webhook.max_seconds),
    batchEdited: false,
    paused: false,
  };
}

/** The form for an existing rule: its stored headers are kept until replaced. */
export function draftOf(rule: AlertRule): RuleDraft {
  const destination = rule.destination;
  const defaults = BATCH_DEFAULTS[destination.type];
  return {
    name: rule.name,
    schedule: rule.schedule ?? null,
    filter: rule.filter,
    type: destination.type,
    url: destination.type === 'webhook' ? destination.url : '',
    format: destination.type === 'webhook' ? destination.format : 'json',
    headersMode: destination.type === 'webhook' && destination.header_names.length > 0 ? 'keep' : 'replace',
    headers: [],
    recipients: destination.type === 'email' ? destination.to.join('\n') : '',
    maxEvents: String(rule.batch.max_events),
    maxSeconds: String(rule.batch.max_seconds),
    batchEdited: rule.batch.max_events !== defaults.max_events || rule.batch.max_seconds !== defaults.max_seconds,
    paused: rule.paused,
  };
}

/** Another destination type; batching that was not changed by hand takes the new type's defaults. */
export function withType(draft: RuleDraft, type: DestinationType): RuleDraft {
  if (draft.batchEdited) return { ...draft, type };
  return {
    ...draft,
    type,
    maxEvents: String(BATCH_DEFAULTS[type].max_events),
    maxSeconds: String(BATCH_DEFAULTS[type].max_seconds),
  };
}

/**
 * E-mail addresses from what a person typed: one per line or separated by commas (or
 * semicolons), spaces around them dropped, empty entries and repeats (in any case) left out.
 */
export function parseRecipients(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of text.split(/[\n,;]+/)) {
    const address = entry.trim();
    if (!address || seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    out.push(address);
  }
  return out;
}

/** Header rows with anything typed in them: wholly empty rows are not sent. */
function filledHeaders(rows: HeaderRow[]): { row: HeaderRow; index: number }[] {
  return rows.map((row, index) => ({ row, index })).filter(({ row }) => row.name.trim() || row.value);
}

function wholeNumber(text: string, min: number, max: number): boolean {
  const n = Number(text);
  return text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * What cannot be sent as it is, by the JSON pointer the server would use (`/name`,
 * `/destination/url`, `/destination/headers/0/value`, `/batch/max_events`). The filter's
 * meaning and the rest are the server's to judge: its 422 names the field. A digest's batching
 * is not checked: it is not sent.
 */
export function validateDraft(draft: RuleDraft): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!draft.name.trim()) errors['/name'] = 'Enter a name, e.g. what the rule watches for.';
  if (draft.type === 'webhook') {
    const url = draft.url.trim();
    if (!url) errors['/destination/url'] = 'Enter the URL the deliveries are posted to.';
    else if (!/^https?:\/\/[^\s/]+/i.test(url)) errors['/destination/url'] = 'Enter an http:// or https:// URL.';
    if (draft.headersMode === 'replace') {
      const rows = filledHeaders(draft.headers);
      if (rows.length > MAX_HEADERS) errors['/destination/headers'] = `Send at most ${MAX_HEADERS} headers.`;
      const names = new Set<string>();
      for (const { row, index } of rows) {
        const name = row.name.trim();
        if (!name) errors[`/destination/headers/${index}/name`] = 'Enter the header’s name.';
        else if (!/^[A-Za-z0-9-]+$/.test(name)) errors[`/destination/headers/${index}/name`] = 'Use letters, digits and - only.';
        else if (names.has(name.toLowerCase())) errors[`/destination/headers/${index}/name`] = 'This header is named twice.';
        names.add(name.toLowerCase());
        if (!row.value) errors[`/destination/headers/${index}/value`] = 'Enter the header’s value.';
      }
    }
  } else {
    const to = parseRecipients(draft.recipients);
    const wrong = to.find((address) => !/^[^\s@]+@[^\s@]+$/.test(address));
    if (to.length === 0) errors['/destination/to'] = 'Enter at least one e-mail address.';
    else if (wrong) errors['/destination/to'] = `“${wrong}” is not an e-mail address.`;
    else if (to.length > MAX_RECIPIENTS) errors['/destination/to'] = `Enter at most ${MAX_RECIPIENTS} addresses.`;
  }
  if (draft.schedule) return errors;
  if (!wholeNumber(draft.maxEvents, 1, MAX_BATCH_EVENTS)) {
    errors['/batch/max_events'] = `Enter a whole number from 1 to ${MAX_BATCH_EVENTS}.`;
  }
  if (!wholeNumber(draft.maxSeconds, 0, MAX_BATCH_SECONDS)) {
    errors['/batch/max_seconds'] = `Enter a whole number from 0 to ${MAX_BATCH_SECONDS}.`;
  }
  return errors;
}

/**
 * The request body for a draft that passed `validateDraft`. A digest sends its `schedule` and no
 * batching (it does not apply); an alert sends no `schedule`.
 */
export function toRuleInput(draft: RuleDraft): AlertRuleInput {
  const destination: AlertRuleInput['destination'] =
    draft.type === 'webhook'
      ? {
          type: 'webhook',
          url: draft.url.trim(),
          format: draft.format,
          ...(draft.headersMode === 'replace'
            ? { headers: filledHeaders(draft.headers).map(({ row }) => ({ name: row.name.trim(), value: row.value })) }
            : {}),
        }
      : { type: 'email', to: parseRecipients(draft.recipients) };
  return {
    name: draft.name.trim(),
    filter: normaliseFilter(draft.filter),
    destination,
    ...(draft.schedule
      ? { schedule: draft.schedule }
      : { batch: { max_events: Number(draft.maxEvents), max_seconds: Number(draft.maxSeconds) } }),
    paused: draft.paused,
  };
}

/** The rule as it is, to send back with a change (`paused`); its headers and schedule stay as they are. */
export function ruleInputOf(rule: AlertRule, patch: Pick<AlertRuleInput, 'paused'> = {}): AlertRuleInput {
  const destination = rule.destination;
  return {
    name: rule.name,
    filter: rule.filter,
    destination:
      destination.type === 'webhook'
        ? { type: 'webhook', url: destination.url, format: destination.format }
        : { type: 'email', to: destination.to },
    batch: rule.batch,
    ...(rule.schedule ? { schedule: rule.schedule } : {}),
    paused: rule.paused,
    ...patch,
  };
}

export interface RuleStatus {
  kind: 'active' | 'paused' | 'disabled';
  label: string;
  tone: BadgeTone;
}

/** Disabled (stopped by the server after failing deliveries) wins over paused (by an admin). */
export function ruleStatus(rule: Pick<AlertRule, 'paused' | 'disabled_at'>): RuleStatus {
  if (rule.disabled_at) return { kind: 'disabled', label: 'Disabled', tone: 'red' };
  if (rule.paused) return { kind: 'paused', label: 'Paused', tone: 'slate' };
  return { kind: 'active', label: 'Active', tone: 'green' };
}
