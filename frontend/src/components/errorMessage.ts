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
