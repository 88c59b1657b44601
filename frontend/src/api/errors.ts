/** One field-level problem reported by the API (RFC 9457 extension `errors`). */
export interface FieldError {
  pointer: string;
  message: string;
}

/**
 * An API failure turned into something the UI can branch on: the HTTP status plus the
 * problem+json body (or a synthetic one when the server could not be reached).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | null;
  readonly type: string;
  readonly fieldErrors: FieldError[];

  constructor(init: { status: number; title: string; detail?: string | null; type?: string; fieldErrors?: FieldError[] }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title);
    this.name = 'ApiError';
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail ?? null;
    this.type = init.type ?? 'about:blank';
    this.fieldErrors = init.fieldErrors ?? [];
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  get isNetworkError(): boolean {
    return this.status === 0;
  }

  /** Client errors are not worth retrying: the same request fails the same way. */
  get isRetryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** A sentence fit to show a person. */
  get userMessage(): string {
    if (this.isNetworkError) return 'Cannot reach the server. Check your connection and try again.';
    return this.detail ?? this.title;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Builds an ApiError from a failed response and its (possibly non-JSON) body. */
export function toApiError(status: number, statusText: string, body: unknown): ApiError {
  if (isRecord(body) && typeof body.title === 'string') {
    const fieldErrors = Array.isArray(body.errors)
      ? body.errors.filter(isRecord).map((e) => ({ pointer: String(e.pointer ?? ''), message: String(e.message ?? '') }))
      : [];
    return new ApiError({
      status,
      title: body.title,
      detail: typeof body.detail === 'string' ? body.detail : null,
      type: typeof body.type === 'string' ? body.type : undefined,
      fieldErrors,
    });
  }
  return new ApiError({ status, title: statusText || `Request failed (${status})` });
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError({ status: 0, title: 'Network error' });
  error.cause = cause;
  return error;
}
