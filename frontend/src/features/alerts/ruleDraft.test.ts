import { describe, expect, it } from 'vitest';
import { makeAlertRule as makeRule } from '../../test/fixtures';
import { draftOf, emptyDraft, parseRecipients, ruleInputOf, ruleStatus, toRuleInput, validateDraft, withType } from './ruleDraft';

describe('parseRecipients', () => {
  it('takes one address per line or comma-separated, trimmed', () => {
    expect(parseRecipients('ann@example.com\n bob@example.com , cy@example.com;dee@example.com')).toEqual([
      'ann@example.com',
      'bob@example.com',
      'cy@example.com',
      'dee@example.com',
    ]);
  });

  it('drops empty entries and repeats in any case, keeping the first spelling', () => {
    expect(parseRecipients('\n,Ann@Example.com,, \nann@example.com\r\n\n')).toEqual(['Ann@Example.com']);
    expect(parseRecipients('   ')).toEqual([]);
  });
});

describe('validateDraft', () => {
  const valid = { ...emptyDraft(), name: 'Deletions', url: 'https://hooks.example.com/in' };

  it('accepts a named webhook rule with the default batching', () => {
    expect(validateDraft(valid)).toEqual({});
  });

  it('asks for a name and a URL, by the pointers the server uses', () => {
    expect(validateDraft(emptyDraft())).toEqual({
      '/name': expect.any(String),
      '/destination/url': 'Enter the URL the deliveries are posted to.',
    });
    expect(validateDraft({ ...valid, url: 'hooks.example.com' })['/destination/url']).toBe('Enter an http:// or https:// URL.');
  });

  it('checks header rows that have anything in them, and ignores empty ones', () => {
    const headers = [
      { name: 'X-Token', value: 'abc' },
      { name: '', value: '' },
      { name: 'x-token', value: 'def' },
      { name: 'Bad header', value: '' },
      { name: '', value: 'orphan' },
    ];
    expect(validateDraft({ ...valid, headers })).toEqual({
      '/destination/headers/2/name': 'This header is named twice.',
      '/destination/headers/3/name': 'Use letters, digits and - only.',
      '/destination/headers/3/value': 'Enter the header’s value.',
      '/destination/headers/4/name': 'Enter the header’s name.',
    });
    // Kept headers are not checked: none are sent.
    expect(validateDraft({ ...valid, headersMode: 'keep', headers })).toEqual({});
  });

  it('asks e-mail rules for 1 to 10 addresses', () => {
    const email = { ...withType(valid, 'email') };
    expect(validateDraft(email)['/destination/to']).toBe('Enter at least one e-mail address.');
    expect(validateDraft({ ...email, recipients: 'ann@example.com, not an address' })['/destination/to']).toBe(
      '“not an address” is not an e-mail address.',
    );
    const eleven = Array.from({ length: 11 }, (_, i) => `u${i}@example.com`).join('\n');
    expect(validateDraft({ ...email, recipients: eleven })['/destination/to']).toBe('Enter at most 10 addresses.');
    expect(validateDraft({ ...email, recipients: 'ann@example.com' })).toEqual({});
  });

  it('does not check a digest’s batching: it is not sent', () => {
    expect(validateDraft({ ...valid, schedule: 'daily', maxEvents: '0', maxSeconds: '' })).toEqual({});
  });

  it('keeps batching within the server’s bounds', () => {
    expect(validateDraft({ ...valid, maxEvents: '0', maxSeconds: '3601' })).toEqual({
      '/batch/max_events': 'Enter a whole number from 1 to 1000.',
      '/batch/max_seconds': 'Enter a whole number from 0 to 3600.',
    });
    expect(validateDraft({ ...valid, maxEvents: '2.5', maxSeconds: '' })).toHaveProperty('/batch/max_events');
    expect(validateDraft({ ...valid, maxEvents: '1000', maxSeconds: '3600' })).toEqual({});
  });
});

describe('toRuleInput', () => {
  it('sends a new webhook rule with its headers, trimmed, without empty rows', () => {
    const draft = {
      ...emptyDraft('?flag=any '),
      name: ' Flagged ',
      url: ' https://hooks.example.com/in ',
      format: 'ndjson' as const,
      headers: [
        { name: ' Authorization ', value: 'Splunk 123' },
        { name: '', value: '' },
      ],
      paused: true,
    };
    expect(toRuleInput(draft)).toEqual({
      name: 'Flagged',
      filter: 'flag=any',
      destination: {
        type: 'webhook',
        url: 'https://hooks.example.com/in',
        format: 'ndjson',
        headers: [{ name: 'Authorization', value: 'Splunk 123' }],
      },
      batch: { max_events: 1, max_seconds: 0 },
      paused: true,
    });
  });

  it('leaves the headers out while the stored ones are kept', () => {
    const input = toRuleInput(draftOf(makeRule()));
    expect(input.destination).toEqual({ type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' });
  });

  it('sends an empty list when every header is removed', () => {
    const draft = { ...draftOf(makeRule()), headersMode: 'replace' as const, headers: [] };
    expect(toRuleInput(draft).destination).toMatchObject({ headers: [] });
  });

  it('turns the recipients into a list', () => {
    const draft = {
      ...withType({ ...emptyDraft(), name: 'Digest' }, 'email'),
      recipients: 'ann@example.com,\nbob@example.com\n',
    };
    expect(toRuleInput(draft)).toEqual({
      name: 'Digest',
      filter: '',
      destination: { type: 'email', to: ['ann@example.com', 'bob@example.com'] },
      batch: { max_events: 100, max_seconds: 60 },
      paused: false,
    });
  });

  it('sends a digest’s schedule instead of its batching', () => {
    const draft = {
      ...withType({ ...emptyDraft('module=booking'), name: 'Weekly bookings' }, 'email'),
      schedule: 'weekly' as const,
      recipients: 'ann@example.com',
      maxEvents: '',
    };
    expect(toRuleInput(draft)).toEqual({
      name: 'Weekly bookings',
      filter: 'module=booking',
      destination: { type: 'email', to: ['ann@example.com'] },
      schedule: 'weekly',
      paused: false,
    });
    expect(toRuleInput({ ...draft, schedule: null, maxEvents: '100' })).not.toHaveProperty('schedule');
  });
});

describe('draftOf', () => {
  it('shows a stored rule, keeping its headers until they are replaced', () => {
    expect(draftOf(makeRule())).toEqual({
      name: 'Flagged bookings',
      schedule: null,
      filter: 'flag=any&module=booking',
      type: 'webhook',
      url: 'https://hooks.example.com/in',
      format: 'ndjson',
      headersMode: 'keep',
      headers: [],
      recipients: '',
      maxEvents: '10',
      maxSeconds: '30',
      batchEdited: true,
      paused: false,
    });
  });

  it('lists an e-mail rule’s recipients one per line', () => {
    const draft = draftOf(
      makeRule({
        destination: { type: 'email', to: ['ann@example.com', 'bob@example.com'] },
        batch: { max_events: 100, max_seconds: 60 },
      }),
    );
    expect(draft).toMatchObject({ type: 'email', recipients: 'ann@example.com\nbob@example.com', batchEdited: false });
  });

  it('keeps a digest’s schedule, and sends it back', () => {
    const rule = makeRule({ schedule: 'daily', filter: 'flag=any', batch: { max_events: 1, max_seconds: 0 } });
    const draft = draftOf(rule);
    expect(draft).toMatchObject({ schedule: 'daily', filter: 'flag=any', batchEdited: false });
    expect(toRuleInput(draft)).toEqual({
      name: 'Flagged bookings',
      filter: 'flag=any',
      destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' },
      schedule: 'daily',
      paused: false,
    });
  });
});

describe('withType', () => {
  it('gives batching the new type’s defaults unless it was changed by hand', () => {
    expect(withType(emptyDraft(), 'email')).toMatchObject({ type: 'email', maxEvents: '100', maxSeconds: '60' });
    const edited = { ...emptyDraft(), maxEvents: '5', batchEdited: true };
    expect(withType(edited, 'email')).toMatchObject({ type: 'email', maxEvents: '5', maxSeconds: '0' });
  });
});

describe('ruleInputOf', () => {
  it('sends the rule back as it is with the change, its headers kept', () => {
    expect(ruleInputOf(makeRule({ paused: true, disabled_at: '2026-11-21T10:00:00Z' }), { paused: false })).toEqual({
      name: 'Flagged bookings',
      filter: 'flag=any&module=booking',
      destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' },
      batch: { max_events: 10, max_seconds: 30 },
      paused: false,
    });
  });

  it('keeps a digest’s schedule', () => {
    expect(ruleInputOf(makeRule({ schedule: 'weekly', paused: true }), { paused: false })).toEqual({
      name: 'Flagged bookings',
      filter: 'flag=any&module=booking',
      destination: { type: 'webhook', url: 'https://hooks.example.com/in', format: 'ndjson' },
      batch: { max_events: 10, max_seconds: 30 },
      schedule: 'weekly',
      paused: false,
    });
  });
});

describe('ruleStatus', () => {
  it('says disabled over paused over active', () => {
    expect(ruleStatus({ paused: false, disabled_at: null }).label).toBe('Active');
    expect(ruleStatus({ paused: true, disabled_at: null }).label).toBe('Paused');
    expect(ruleStatus({ paused: true, disabled_at: '2026-11-21T10:00:00Z' }).label).toBe('Disabled');
  });
});
