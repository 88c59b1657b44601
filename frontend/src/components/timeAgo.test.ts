import { describe, expect, it } from 'vitest';
import { timeAgo } from './timeAgo';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const before = (ms: number) => new Date(NOW - ms).toISOString();

describe('timeAgo', () => {
  it('says "just now" within the minute, and for a time slightly ahead', () => {
    expect(timeAgo(before(0), NOW)).toBe('just now');
    expect(timeAgo(before(59_999), NOW)).toBe('just now');
    expect(timeAgo(before(-5_000), NOW)).toBe('just now');
  });

  it('counts whole minutes, hours and days, rounded down', () => {
    expect(timeAgo(before(60_000), NOW)).toBe('1 min ago');
    expect(timeAgo(before(59 * 60_000 + 59_999), NOW)).toBe('59 min ago');
    expect(timeAgo(before(3_600_000), NOW)).toBe('1 h ago');
    expect(timeAgo(before(3 * 3_600_000 + 59 * 60_000), NOW)).toBe('3 h ago');
    expect(timeAgo(before(23 * 3_600_000 + 59 * 60_000), NOW)).toBe('23 h ago');
    expect(timeAgo(before(24 * 3_600_000), NOW)).toBe('1 d ago');
    expect(timeAgo(before(400 * 24 * 3_600_000), NOW)).toBe('400 d ago');
  });

  it('reads any RFC 3339 offset', () => {
    expect(timeAgo('2026-11-20T13:30:00+02:00', NOW)).toBe('30 min ago');
  });

  it('returns a text that is not a time as it is', () => {
    expect(timeAgo('soon', NOW)).toBe('soon');
  });
});
