import { ApiError } from '../api';

/** The sentence to show for a failed request. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.userMessage;
  return 'Something went wrong. Please try again.';
}

/** What the API said about one request field (`errors[].pointer` `/<field>`), if anything. */
export function fieldErrorOf(error: unknown, field: string): string | null {
  if (!(error instanceof ApiError)) return null;
  return error.fieldErrors.find((e) => e.pointer === `/${field}`)?.message ?? null;
}

/** The sentence above a failed form whose `fields` show their own errors next to them. */
export function formErrorMessage(error: unknown, fields: string[]): string {
  if (error instanceof ApiError && error.fieldErrors.length > 0) {
    const shownByFields = error.fieldErrors.every((e) => fields.some((f) => e.pointer === `/${f}`));
    if (shownByFields) return 'Check the highlighted fields.';
  }
  return errorMessage(error);
}

/** `seconds` as a wait a person can read, rounded up: "45 seconds", "2 minutes", "1 hour". */
export function waitInWords(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return plural(Math.max(1, Math.ceil(seconds)), 'second');
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  return plural(Math.ceil(minutes / 60), 'hour');
}

/** The sentence for a throttled password check (a 429 to sign-in or to a password change). */
export function tooManyAttemptsMessage(error: ApiError): string {
  if (error.retryAfter === null) return 'Too many attempts. Wait a moment and try again.';
  return `Too many attempts. Try again in ${waitInWords(error.retryAfter)}.`;
}
