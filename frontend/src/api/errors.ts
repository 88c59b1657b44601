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
  /** Seconds to wait before trying again (`Retry-After` of a 429 or 503), when the server said. */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    title: string;
    detail?: string | null;
    type?: string;
    fieldErrors?: FieldError[];
    retryAfter?: number | null;
  }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title);
    this.name = 'ApiError';
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail ?? null;
    this.type = init.type ?? 'about:blank';
    this.fieldErrors = init.fieldErrors ?? [];
    this.retryAfter = init.retryAfter ?? null;
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

/**
 * The seconds a `Retry-After` header asks to wait (a number of seconds or an HTTP date), else the
 * ones a throttled request's detail names ("too many attempts; retry in 90 seconds").
 */
function retryAfterOf(headers: Headers | undefined, detail: unknown, now = Date.now()): number | null {
  const header = headers?.get('Retry-After')?.trim();
  if (header) {
    if (/^\d+$/.test(header)) return Number(header);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  }
  const named = typeof detail === 'string' ? /retry in (\d+) seconds?/i.exec(detail) : null;
  return named ? Number(named[1]) : null;
}

/** Builds an ApiError from a failed response, its (possibly non-JSON) body and its headers. */
export function toApiError(status: number, statusText: string, body: unknown, headers?: Headers): ApiError {
  const retryAfter = retryAfterOf(headers, isRecord(body) ? body.detail : null);
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
      retryAfter,
    });
  }
  return new ApiError({ status, title: statusText || `Request failed (${status})`, retryAfter });
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError({ status: 0, title: 'Network error' });
  error.cause = cause;
  return error;
}
