import { describe, expect, it } from 'vitest';
import { ApiError, toApiError } from '../api';
import { tooManyAttemptsMessage, waitInWords } from './errorMessage';

const throttled = (detail: string, headers?: Record<string, string>) =>
  toApiError(
    429,
    'Too Many Requests',
    { type: 'about:blank', title: 'Too many requests', status: 429, detail },
    new Headers(headers),
  );

describe('waitInWords', () => {
  it('rounds up to seconds, minutes or hours', () => {
    expect(waitInWords(1)).toBe('1 second');
    expect(waitInWords(45)).toBe('45 seconds');
    expect(waitInWords(60)).toBe('1 minute');
    expect(waitInWords(61)).toBe('2 minutes');
    expect(waitInWords(3540)).toBe('59 minutes');
    expect(waitInWords(3599)).toBe('1 hour');
    expect(waitInWords(3600)).toBe('1 hour');
  });
});

describe('tooManyAttemptsMessage', () => {
  it('takes the wait from Retry-After, in seconds or as a date', () => {
    expect(tooManyAttemptsMessage(throttled('slow down', { 'Retry-After': '300' }))).toBe(
      'Too many attempts. Try again in 5 minutes.',
    );
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    expect(throttled('slow down', { 'Retry-After': inTwoMinutes }).retryAfter).toBeGreaterThan(110);
  });

  it('falls back to the seconds the detail names, then to a wait without a time', () => {
    expect(tooManyAttemptsMessage(throttled('too many attempts; retry in 30 seconds'))).toBe(
      'Too many attempts. Try again in 30 seconds.',
    );
    expect(tooManyAttemptsMessage(throttled('slow down'))).toBe('Too many attempts. Wait a moment and try again.');
    expect(tooManyAttemptsMessage(new ApiError({ status: 429, title: 'Too many requests' }))).toBe(
      'Too many attempts. Wait a moment and try again.',
    );
  });
});
