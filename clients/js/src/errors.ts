/**
 * The typed errors a session throws, and how a failed answer maps to them. The mapping follows the .NET client's
 * (src/Postern.Client/ErrorMapping.cs), so that both clients say the same thing about the same answer.
 */

/** DRF's validation errors: field name → messages (`non_field_errors` for the form as a whole). */
export type FieldErrors = Record<string, string[]>;

interface ErrorDetails {
  status?: number | undefined;
  detail?: string | undefined;
  fieldErrors?: FieldErrors | undefined;
  /** The request that failed, as `POST http://127.0.0.1:8000/auth/login`. */
  request?: string | undefined;
  cause?: unknown;
}

/** A request the backend refused or could not answer. Every error of this package is one. */
export class PosternError extends Error {
  /** The HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** DRF's `{"detail": ...}`, when the backend sent one. */
  readonly detail: string | undefined;
  /** DRF's field errors (empty unless the backend sent some). */
  readonly fieldErrors: FieldErrors;
  /** The request that failed, as `POST http://127.0.0.1:8000/auth/login`. */
  readonly request: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.detail = details.detail;
    this.fieldErrors = details.fieldErrors ?? {};
    this.request = details.request;
  }
}

/** Wrong username or password (or an inactive user), or a wrong second-factor code. */
export class InvalidCredentialsError extends PosternError {}

/** The request needed a signed-in session and had none (DRF's "Authentication credentials were not provided."). */
export class NotAuthenticatedError extends PosternError {}

/** The session this client had is over (expired, logged out elsewhere, password changed): log in again. */
export class SessionExpiredError extends NotAuthenticatedError {}

/** Signed in, but not allowed (DRF's "You do not have permission to perform this action."). */
export class PermissionDeniedError extends PosternError {}

/** The backend's CSRF check refused the request, even after one token refresh and one retry. */
export class CsrfFailedError extends PosternError {}

/** 400 with DRF's field errors in {@link PosternError.fieldErrors}. */
export class ValidationError extends PosternError {}

export class NotFoundError extends PosternError {}

/** 429: the backend throttles this client or account. */
export class ThrottledError extends PosternError {
  /** Seconds to wait before trying again (the `Retry-After` header), when the backend said. */
  readonly retryAfter: number | undefined;

  constructor(message: string, details: ErrorDetails & { retryAfter?: number | undefined }) {
    super(message, details);
    this.retryAfter = details.retryAfter;
  }
}

/** 5xx: the backend failed. */
export class ServerError extends PosternError {}

/** No answer at all: connection refused or reset, DNS, TLS, or no answer within the timeout. */
export class NetworkError extends PosternError {}

/**
 * The password was right and the backend wants a second factor (Postern's `mfa_required`). The login is pending:
 * finish it with `session.completeTwoFactor(code)`, or log in again with `{ otp }`.
 */
export class TwoFactorRequiredError extends PosternError {}

/** A sensitive action needs a recent login: call `session.reauthenticate(...)`, then try again. */
export class ReauthenticationRequiredError extends PosternError {}

/** A URL outside the backend's origin: the session sends neither its cookies nor its token there, so it does not go. */
export class CrossOriginError extends PosternError {}

const notAuthenticatedDetail = "Authentication credentials were not provided.";

/** What a failed answer was, as far as mapping it needs. */
export interface FailedAnswer {
  status: number;
  /** The body as text (JSON from DRF, HTML from Django's own CSRF page). */
  body: string;
  retryAfterHeader: string | null;
  /** The request, as `POST http://host/auth/login`. */
  request: string;
  /** The request was a login (or its second step): a 401 then means wrong credentials. */
  login: boolean;
  /** The request carried a session cookie (known only where the client keeps the cookies itself). */
  hadSession: boolean;
}

/** The typed error a failed answer means. */
export function errorFromAnswer(answer: FailedAnswer): PosternError {
  const { status, request } = answer;
  const parsed = parseErrorBody(answer.body);
  const detail = parsed.detail;
  const details: ErrorDetails = { status, detail, fieldErrors: parsed.fieldErrors, request };
  const said = `${request}: ${status}${detail === undefined ? "" : ` ${detail}`}`;
  if (isCsrfFailure(answer.body)) {
    return new CsrfFailedError(said, { ...details, detail: detail ?? "CSRF verification failed." });
  }
  if (status === 429) {
    const retryAfter = parseRetryAfter(answer.retryAfterHeader);
    return new ThrottledError(said, { ...details, retryAfter });
  }
  if (status === 401 && parsed.flags.has("reauthentication_required")) {
    return new ReauthenticationRequiredError(`${request}: reauthentication required: confirm your password.`, details);
  }
  if (status === 401 && parsed.flags.has("mfa_required")) {
    return new TwoFactorRequiredError(`${request}: two-factor authentication required.`, details);
  }
  if (status === 401 && answer.login) {
    return new InvalidCredentialsError(detail ?? "Invalid username or password.", details);
  }
  if (status === 401 || (status === 403 && detail === notAuthenticatedDetail)) {
    return answer.hadSession
      ? new SessionExpiredError(`${request}: the session has expired or was ended; log in again.`, details)
      : new NotAuthenticatedError(`${request}: not logged in.`, details);
  }
  if (status === 403) return new PermissionDeniedError(said, details);
  if (status === 400 && Object.keys(parsed.fieldErrors).length > 0) {
    const fields = Object.entries(parsed.fieldErrors).map(([field, messages]) => `${field}: ${messages.join(" ")}`);
    return new ValidationError(`${request}: 400 ${fields.join("; ")}`, details);
  }
  if (status === 404) return new NotFoundError(said, details);
  if (status >= 500) return new ServerError(said, details);
  return new PosternError(said, details);
}

/** DRF's JSON (`CSRF Failed: ...`) or Django's own HTML page (`CSRF verification failed`). */
export function isCsrfFailure(body: string): boolean {
  return body.includes("CSRF Failed") || body.includes("CSRF verification failed");
}

interface ParsedErrorBody {
  detail: string | undefined;
  fieldErrors: FieldErrors;
  /** Postern's flags a client tests rather than parse a message: `mfa_required`, `reauthentication_required`. */
  flags: Set<string>;
}

function parseErrorBody(body: string): ParsedErrorBody {
  const result: ParsedErrorBody = { detail: undefined, fieldErrors: {}, flags: new Set() };
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch {
    return result; // an HTML error page, or nothing
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) return result;
  for (const [name, value] of Object.entries(root as Record<string, unknown>)) {
    if (name === "detail" && typeof value === "string") result.detail = value;
    else if (value === true) result.flags.add(name);
    // {"detail": ..., "code": "mfa_required"} is the other common way of saying it.
    else if (name === "code" && typeof value === "string") result.flags.add(value);
    else if (Array.isArray(value)) {
      result.fieldErrors[name] = value.map((message) => (typeof message === "string" ? message : JSON.stringify(message)));
    }
  }
  return result;
}

/** `Retry-After` in seconds, given as seconds or as an HTTP date (RFC 9110); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
