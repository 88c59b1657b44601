import { ApiError } from '../api';

/** The sentence to show for a failed request. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.userMessage;
  return 'Something went wrong. Please try again.';
}
