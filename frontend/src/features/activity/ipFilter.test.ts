import { describe, expect, it } from 'vitest';
import { ipFilterProblem } from './ipFilter';

describe('ipFilterProblem', () => {
  it.each([
    '203.0.113.7',
    '0.0.0.0',
    '255.255.255.255',
    '86',
    '86.',
    '86.52',
    '86.52.',
    '86.52.1',
    '86.52.1.',
    '10.0.0.0/8',
    '203.0.113.7/32',
    '0.0.0.0/0',
    '2001:db8::1',
    '::1',
    '::',
    '::ffff:192.0.2.1',
    '2001:DB8:0:0:0:0:0:1',
    '2001:db8::/32',
    '2001:db8::1/128',
    '::/0',
    ' 86.52 ',
  ])('accepts %s', (value) => {
    expect(ipFilterProblem(value)).toBeNull();
  });

  it('accepts nothing typed as no filter', () => {
    expect(ipFilterProblem(null)).toBeNull();
    expect(ipFilterProblem('   ')).toBeNull();
  });

  it.each([
    '86.5x',
    '256.1.1.1',
    '1.2.3.4.5',
    '1.2.3.4.',
    '86..52',
    '.86',
    '01.2.3.4',
    '86.52.1/16',
    'localhost',
    '2001:db8::g',
    '1::2::3',
    '2001:db8:0:0:0:0:0:0:1',
    'fe80::1%eth0',
    '/8',
  ])('refuses %s', (value) => {
    expect(ipFilterProblem(value)).toMatch(/^Enter an IP address/);
  });

  it('names the allowed prefix lengths when only the length is wrong', () => {
    expect(ipFilterProblem('10.0.0.0/33')).toBe('An IPv4 range ends in /0 to /32.');
    expect(ipFilterProblem('10.0.0.0/')).toBe('An IPv4 range ends in /0 to /32.');
    expect(ipFilterProblem('10.0.0.0/x')).toBe('An IPv4 range ends in /0 to /32.');
    expect(ipFilterProblem('10.0.0.0/-1')).toBe('An IPv4 range ends in /0 to /32.');
    expect(ipFilterProblem('2001:db8::/129')).toBe('An IPv6 range ends in /0 to /128.');
    expect(ipFilterProblem('2001:db8::/1000')).toBe('An IPv6 range ends in /0 to /128.');
  });
});
