import { ERROR_STATUS, type ErrorCode } from "../schemas/index.ts";

/** The one error class: every failure the API reports is one of these, rendered by the one onError handler. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;
  constructor(code: ErrorCode, message: string, details?: unknown, headers?: Record<string, string>) {
    super(message);
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new ApiError("not_found", `${what} not found`);

/** At most this many field errors, each message and path cut short: an error body stays a few KB whatever the input. */
export const MAX_FIELD_ERRORS = 20;
const MAX_DETAIL_CHARS = 200;
const clip = (s: string) => (s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS)}…` : s);

/** The one `invalid_input` error for failing fields (zod's or a JSON Schema's), bounded in count and length. */
export function invalidFields(issues: { path: string; message: string; code: string }[]): ApiError {
  return new ApiError("invalid_input", "input failed validation", {
    fields: issues
      .slice(0, MAX_FIELD_ERRORS)
      .map((i) => ({ path: clip(i.path), message: clip(i.message), code: i.code })),
    ...(issues.length > MAX_FIELD_ERRORS ? { omitted: issues.length - MAX_FIELD_ERRORS } : {}),
  });
}

/** Logs an unexpected error (one that is not an ApiError) with the request it broke, before a generic 500. */
export function logUnexpected(requestId: string | undefined, err: unknown): void {
  console.error(
    JSON.stringify({ level: "error", request_id: requestId, message: String(err), stack: (err as Error)?.stack }),
  );
}
