import { describe, expect, it } from 'vitest';
import { encodeSegment, recordTypeProblem, renderLink, templateProblem } from './template';

describe('templateProblem', () => {
  it('takes https templates with {id} once and {type} at most once', () => {
    expect(templateProblem('https://crm.acme.example/bookings/{id}')).toBeNull();
    expect(templateProblem('https://crm.acme.example:8443/r?type={type}&id={id}#top')).toBeNull();
  });

  it.each([
    ['http://crm.acme.example/{id}', 'Start with https://'],
    ['javascript:alert(1)//{id}', 'Start with https://'],
    ['data:text/html,{id}', 'Start with https://'],
    ['HTTPS://crm.acme.example/{id}', 'Start with https://'],
    ['https://user:pass@crm.acme.example/{id}', 'user name or password'],
    ['https://crm.acme.example\\@evil.example/{id}', 'backslashes'],
    ['https://crm.acme.example/ {id}', 'without spaces'],
    ['https://crm.acme.example/é/{id}', 'visible ASCII'],
    ['https://{id}.acme.example/', 'out of the host name'],
    ['https:///{id}', 'Name a host'],
    ['https://crm.acme.example/bookings', 'Put {id}'],
    ['https://crm.acme.example/{id}/{id}', 'Use {id} once'],
    ['https://crm.acme.example/{type}/{type}/{id}', 'Use {type} at most once'],
    ['https://crm.acme.example/{name}/{id}', '{name} is not replaced'],
    ['https://crm.acme.example/{id', 'Close every {'],
    ['https://crm.acme.example/}{id}', 'closes no placeholder'],
    [`https://crm.acme.example/${'a'.repeat(500)}{id}`, 'at most 500'],
  ])('refuses %s', (template, said) => {
    expect(templateProblem(template)).toContain(said);
  });

  it('takes record types as events name them', () => {
    expect(recordTypeProblem('credit_note')).toBeNull();
    expect(recordTypeProblem('Booking')).toContain('lower snake case');
    expect(recordTypeProblem('')).toContain('Enter a record type');
  });
});

describe('renderLink', () => {
  const template = 'https://crm.acme.example/{type}/{id}?tab=history';

  it('keeps an id in its path segment, encoded as the server encodes it', () => {
    expect(renderLink(template, 'booking', '../admin?x=1')).toBe(
      'https://crm.acme.example/booking/..%2Fadmin%3Fx%3D1?tab=history',
    );
    expect(renderLink(template, 'booking', "a b#c/é!'()*")).toBe(
      'https://crm.acme.example/booking/a%20b%23c%2F%C3%A9%21%27%28%29%2A?tab=history',
    );
    expect(new URL(renderLink(template, 'booking', '../../admin')!).pathname).toBe('/booking/..%2F..%2Fadmin');
    expect(encodeSegment('BOK-1_2.3~')).toBe('BOK-1_2.3~');
  });

  it('gives no link for an id that URL parsers take as a folder', () => {
    for (const id of ['', '.', '..']) expect(renderLink(template, 'booking', id)).toBeNull();
  });

  it('gives no link for a template that breaks the rules, whatever the server sent', () => {
    expect(renderLink('javascript:alert(document.cookie)//{id}', 'booking', '1')).toBeNull();
    expect(renderLink('data:text/html,<script>alert(1)</script>{id}', 'booking', '1')).toBeNull();
    expect(renderLink('http://crm.acme.example/{id}', 'booking', '1')).toBeNull();
    expect(renderLink(' javascript:alert(1)//https://{id}', 'booking', '1')).toBeNull();
  });
});
