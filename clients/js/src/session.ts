/**
 * One user's session with a Django-style session + CSRF backend (Postern, or Django + DRF as the seed describes it):
 * login and logout, the CSRF token pair on every unsafe request, JSON in and out, pagination, typed errors. Mirrors the
 * .NET client (src/Postern.Client/PosternSession.cs and SessionHandler.cs).
 */
import { CookieJar, type StoredCookie } from "./cookie-jar.js";
import { BrowserCookies, type CookieStore, hasDocumentCookies, JarCookies, pageOrigin } from "./cookie-store.js";
import {
  CrossOriginError,
  errorFromAnswer,
  InvalidCredentialsError,
  isCsrfFailure,
  NetworkError,
  PosternError,
  TwoFactorRequiredError,
  ValidationError,
} from "./errors.js";
import { EndpointPaths, HeaderNames, isSafeMethod } from "./protocol.js";

export interface SessionOptions {
  /** The backend, e.g. `http://127.0.0.1:8000`. Paths are joined onto its path (`https://host/backend` + `/api/`). */
  baseUrl: string | URL;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
  /** How long one request may take, answer body included, before it fails with a NetworkError (default 30 s). */
  timeoutMs?: number;
  /** Aborts every request of the session (e.g. when the page or the program goes away). */
  signal?: AbortSignal;
  /**
   * Where the cookies live: `"browser"` (the browser's own) or `"jar"` (the session's own jar, which Node needs).
   * By default, the browser's where there is a `document`, a jar elsewhere.
   */
  cookies?: "browser" | "jar";
}

export interface RequestOptions {
  /** Aborts this request. */
  signal?: AbortSignal;
}

export type HttpMethod = "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A body sent as it is (a form); anything else is sent as JSON. */
type RawBody = FormData | URLSearchParams | Blob | ArrayBuffer;

/** Who is signed in, as `GET /auth/user` says (DRF's snake_case names, as they come). */
export interface CurrentUser {
  url?: string;
  username: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  is_staff?: boolean;
  email_verified?: boolean;
  /** Postern: how long the last authentication still counts for sensitive actions, in seconds. */
  reauthentication_seconds_left?: number;
  [field: string]: unknown;
}

export interface LoginResult {
  detail: string;
  username: string;
}

export interface DetailAnswer {
  detail: string;
  [field: string]: unknown;
}

/** One of the user's sessions, as Postern's `/api/sessions/` lists them. */
export interface SessionInfo {
  url: string;
  created: string;
  last_seen: string | null;
  expires: string;
  user_agent: string;
  /** This client's own session. */
  current: boolean;
}

export interface TwoFactorStatus {
  totp_enabled: boolean;
  totp_activated_at: string | null;
  recovery_codes_left: number;
}

export interface TotpSetup {
  /** The new secret, base32. */
  secret: string;
  otpauth_url: string;
  qr_code_svg: string;
}

/** How a saved jar looks: the origin it belongs to and its cookies. */
interface SavedCookies {
  origin: string;
  cookies: StoredCookie[];
}

const defaultTimeoutMs = 30_000;
const maxRedirects = 10;

/** What came back for one request, body read. */
interface Answer {
  status: number;
  headers: Headers;
  url: URL;
  body: string;
}

/** Starts a session with a backend. Nothing is sent until the first call. */
export function createSession(options: SessionOptions): PosternSession {
  return new PosternSession(options);
}

export class PosternSession {
  /** The backend's base URL. */
  readonly baseUrl: URL;
  /** This session's own cookies (Node); undefined when the browser keeps them. */
  readonly cookieJar: CookieJar | undefined;

  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #cookies: CookieStore;
  /** The last token the backend handed over in a header or body: a page on another site cannot read the cookie. */
  #announcedToken: string | undefined;

  constructor(options: SessionOptions) {
    this.baseUrl = new URL(options.baseUrl);
    if (this.baseUrl.protocol !== "http:" && this.baseUrl.protocol !== "https:") {
      throw new TypeError(`baseUrl must be an http or https URL, not ${this.baseUrl.href}`);
    }
    // Bound to globalThis: a browser's fetch throws "Illegal invocation" when called on another object.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.#signal = options.signal;
    const mode = options.cookies ?? (hasDocumentCookies() ? "browser" : "jar");
    if (mode === "browser") {
      this.#cookies = new BrowserCookies(this.baseUrl, pageOrigin() ?? this.baseUrl.origin);
      this.cookieJar = undefined;
    } else {
      this.cookieJar = new CookieJar();
      this.#cookies = new JarCookies(this.cookieJar);
    }
  }

  /** The CSRF token the next unsafe request will carry (the `csrftoken` cookie), if there is one yet. */
  get csrfToken(): string | undefined {
    return this.#cookies.csrfCookie(this.baseUrl) ?? this.#announcedToken;
  }

  // ---- signing in and out

  /**
   * Logs in (`POST /auth/login`), fetching a CSRF token first if there is none, and keeps the rotated token. When the
   * backend asks for a second factor, `otp` (a TOTP or recovery code) completes the login; without it a
   * {@link TwoFactorRequiredError} says so and {@link completeTwoFactor} finishes it.
   * @throws InvalidCredentialsError wrong username or password; ThrottledError too many failures (`retryAfter`).
   */
  async login(username: string, password: string, options: { otp?: string } & RequestOptions = {}): Promise<LoginResult> {
    let result: LoginResult;
    try {
      result = await this.#request<LoginResult>("POST", EndpointPaths.login, { username, password }, options, true);
    } catch (error) {
      if (error instanceof TwoFactorRequiredError && options.otp !== undefined) {
        return this.completeTwoFactor(options.otp, options);
      }
      throw error;
    }
    await this.#afterTokenRotation(options);
    return result;
  }

  /**
   * Finishes a login that is waiting for its second factor (`POST /auth/mfa/authenticate`).
   * @throws InvalidCredentialsError a wrong or spent code (the login stays pending) or no login waiting.
   */
  async completeTwoFactor(code: string, options: RequestOptions = {}): Promise<LoginResult> {
    let result: LoginResult;
    try {
      result = await this.#request<LoginResult>("POST", EndpointPaths.mfaAuthenticate, { code }, options, true);
    } catch (error) {
      // A wrong code is a wrong credential, whatever form the backend's answer takes (Postern: {"code": [...]}).
      if (error instanceof ValidationError && "code" in error.fieldErrors) {
        throw new InvalidCredentialsError(error.fieldErrors["code"]?.join(" ") ?? error.message, {
          status: error.status, detail: error.detail, fieldErrors: error.fieldErrors, request: error.request,
        });
      }
      throw error;
    }
    await this.#afterTokenRotation(options);
    return result;
  }

  /** Ends the session on the server (`POST /auth/logout` with the token pair) and forgets its cookie here. */
  async logout(options: RequestOptions = {}): Promise<DetailAnswer> {
    try {
      return await this.#request<DetailAnswer>("POST", EndpointPaths.logout, undefined, options);
    } finally {
      this.#cookies.forgetSession();
    }
  }

  /**
   * Who is signed in (`GET /auth/user`).
   * @throws NotAuthenticatedError nobody (SessionExpiredError when this session had a cookie that no longer counts).
   */
  whoami(options: RequestOptions = {}): Promise<CurrentUser> {
    return this.#request<CurrentUser>("GET", EndpointPaths.user, undefined, options);
  }

  // ---- JSON requests

  /** GET: the parsed JSON answer. `pathOrUrl` is a path under the base URL or an absolute URL of the backend's origin. */
  get<T = unknown>(pathOrUrl: string, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>("GET", pathOrUrl, undefined, options);
  }

  post<T = unknown>(pathOrUrl: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>("POST", pathOrUrl, body, options);
  }

  put<T = unknown>(pathOrUrl: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>("PUT", pathOrUrl, body, options);
  }

  patch<T = unknown>(pathOrUrl: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>("PATCH", pathOrUrl, body, options);
  }

  /** DELETE: the parsed answer, `undefined` for DRF's 204. */
  delete<T = unknown>(pathOrUrl: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>("DELETE", pathOrUrl, body, options);
  }

  /** Any method; what the five above use. */
  request<T = unknown>(method: HttpMethod, pathOrUrl: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#request<T>(method, pathOrUrl, body, options);
  }

  /**
   * GETs a link of the API: a URL, or an object's link field (`url` by default), as DRF's hyperlinked resources give them.
   * @throws CrossOriginError the link leads to another origin (the session's cookies and token go nowhere else).
   */
  follow<T = unknown>(target: string | Record<string, unknown>, field = "url", options: RequestOptions = {}): Promise<T> {
    const link = typeof target === "string" ? target : target[field];
    if (typeof link !== "string") throw new TypeError(`The resource has no '${field}' link.`);
    return this.#request<T>("GET", link, undefined, options);
  }

  /**
   * Every item of a paginated list, page after page: DRF's `{"results": [...], "next": url}` (page number and
   * limit/offset alike), or a plain array with a `Link: <url>; rel="next"` header.
   * @throws CrossOriginError a `next` link to another origin.
   */
  async *paginate<T = unknown>(pathOrUrl: string, options: RequestOptions = {}): AsyncGenerator<T, void, undefined> {
    let next: string | undefined = pathOrUrl;
    const seen = new Set<string>();
    while (next !== undefined) {
      const url = this.#resolve(next);
      if (seen.has(url.href)) return; // a list that links back to a page already read would never end
      seen.add(url.href);
      const answer = await this.#send("GET", url, undefined, options, false);
      const page = parseJson(answer.body);
      const items = Array.isArray(page) ? page : isObject(page) && Array.isArray(page["results"]) ? page["results"] : undefined;
      if (items === undefined) throw new PosternError(`GET ${url.href}: not a paginated list.`, { status: answer.status });
      yield* items as T[];
      next = isObject(page) && typeof page["next"] === "string" ? page["next"] : nextFromLinkHeader(answer.headers.get("link"));
    }
  }

  // ---- the account flows (docs/accounts.md)

  /**
   * Changes the signed-in user's password. This session stays signed in (a new key and CSRF token, both picked up);
   * every other session of the user ends.
   * @throws ValidationError a wrong old password, or the password validators' messages.
   */
  async changePassword(oldPassword: string, newPassword: string, options: RequestOptions = {}): Promise<DetailAnswer> {
    const answer = await this.#request<DetailAnswer>("POST", EndpointPaths.passwordChange, {
      old_password: oldPassword, new_password1: newPassword, new_password2: newPassword,
    }, options);
    await this.#afterTokenRotation(options);
    return answer;
  }

  /** Asks for a password reset e-mail; the same answer whether or not anyone has the address. */
  requestPasswordReset(email: string, options: RequestOptions = {}): Promise<DetailAnswer> {
    return this.#request<DetailAnswer>("POST", EndpointPaths.passwordReset, { email }, options);
  }

  /** Sets a new password with the `uid` and `token` of a reset link. */
  confirmPasswordReset(uid: string, token: string, newPassword: string, options: RequestOptions = {}): Promise<DetailAnswer> {
    return this.#request<DetailAnswer>("POST", EndpointPaths.passwordResetConfirm, {
      uid, token, new_password1: newPassword, new_password2: newPassword,
    }, options);
  }

  /**
   * Signs up; signed in at once unless the backend makes e-mail verification mandatory.
   * @throws PermissionDeniedError sign-up is closed; ValidationError the username, address or password is refused.
   */
  async signup(account: { username: string; email: string; password: string }, options: RequestOptions = {}): Promise<CurrentUser> {
    const user = await this.#request<CurrentUser>("POST", EndpointPaths.signup, {
      username: account.username, email: account.email, password1: account.password, password2: account.password,
    }, options);
    await this.#afterTokenRotation(options);
    return user;
  }

  /** Verifies an e-mail address with the key of its verification link. */
  verifyEmail(key: string, options: RequestOptions = {}): Promise<DetailAnswer> {
    return this.#request<DetailAnswer>("POST", EndpointPaths.emailVerify, { key }, options);
  }

  /** Asks for the verification e-mail again. */
  resendEmailVerification(email: string, options: RequestOptions = {}): Promise<DetailAnswer> {
    return this.#request<DetailAnswer>("POST", EndpointPaths.emailVerifyResend, { email }, options);
  }

  /** Changes the signed-in user's address or names (`PATCH /auth/user`). */
  updateProfile(changes: { email?: string; first_name?: string; last_name?: string }, options: RequestOptions = {}): Promise<CurrentUser> {
    return this.#request<CurrentUser>("PATCH", EndpointPaths.user, changes, options);
  }

  /**
   * Confirms the password (or a two-factor code) so that a sensitive action may go on
   * ({@link ReauthenticationRequiredError}).
   */
  reauthenticate(proof: { password: string } | { code: string }, options: RequestOptions = {}): Promise<DetailAnswer> {
    return this.#request<DetailAnswer>("POST", EndpointPaths.reauthenticate, proof, options);
  }

  /** Postern: the signed-in user's live sessions, this one marked `current`. */
  async sessions(options: RequestOptions = {}): Promise<SessionInfo[]> {
    const sessions: SessionInfo[] = [];
    for await (const session of this.paginate<SessionInfo>(EndpointPaths.sessions, options)) sessions.push(session);
    return sessions;
  }

  /** Postern: ends one of the user's sessions, given as its listing, its `url`, or its id. */
  async revokeSession(session: SessionInfo | string | number, options: RequestOptions = {}): Promise<void> {
    // A listing's url, a URL or path, or the id that ends one (Postern's ids are hex strings).
    const target = typeof session === "object" ? session.url
      : typeof session === "number" || !session.includes("/") ? `${EndpointPaths.sessions}${session}/`
        : session;
    await this.#request("DELETE", target, undefined, options);
  }

  /** Postern: "log out everywhere else" (needs a recent login: {@link reauthenticate}). */
  revokeOtherSessions(options: RequestOptions = {}): Promise<DetailAnswer & { revoked: number }> {
    return this.#request("POST", EndpointPaths.revokeOtherSessions, undefined, options);
  }

  /** Postern: whether two-factor authentication is on. */
  twoFactorStatus(options: RequestOptions = {}): Promise<TwoFactorStatus> {
    return this.#request<TwoFactorStatus>("GET", EndpointPaths.mfa, undefined, options);
  }

  /** Postern: a new authenticator secret, to show (its `otpauth_url` or QR code) and then {@link activateTotp}. */
  setUpTotp(options: RequestOptions = {}): Promise<TotpSetup> {
    return this.#request<TotpSetup>("POST", EndpointPaths.totpSetup, undefined, options);
  }

  /** Postern: turns two-factor authentication on with a first code from the app; the answer has the recovery codes. */
  activateTotp(code: string, options: RequestOptions = {}): Promise<DetailAnswer & { recovery_codes: string[] }> {
    return this.#request("POST", EndpointPaths.totpActivate, { code }, options);
  }

  /** Postern: turns two-factor authentication off (needs a recent login). */
  disableTotp(options: RequestOptions = {}): Promise<DetailAnswer> {
    return this.#request<DetailAnswer>("DELETE", EndpointPaths.totp, undefined, options);
  }

  /** Postern: ten new recovery codes, replacing the old ones (needs a recent login). */
  newRecoveryCodes(options: RequestOptions = {}): Promise<{ recovery_codes: string[] }> {
    return this.#request("POST", EndpointPaths.recoveryCodes, undefined, options);
  }

  // ---- the cookies (Node)

  /** The session's cookies as a JSON string, to keep a login across runs (Node). Treat it as a password. */
  saveCookies(): string {
    const saved: SavedCookies = { origin: this.baseUrl.origin, cookies: this.#jar("saveCookies").all() };
    return JSON.stringify(saved);
  }

  /**
   * Replaces the session's cookies with saved ones (Node).
   * @throws CrossOriginError they were saved for another origin; TypeError not saved cookies at all.
   */
  loadCookies(json: string): void {
    const saved = JSON.parse(json) as Partial<SavedCookies> | null;
    if (saved === null || typeof saved !== "object" || !Array.isArray(saved.cookies)) {
      throw new TypeError("loadCookies: not cookies saved by saveCookies().");
    }
    if (saved.origin !== this.baseUrl.origin) {
      throw new CrossOriginError(`These cookies belong to ${String(saved.origin)}, not to ${this.baseUrl.origin}.`);
    }
    this.#jar("loadCookies").replaceAll(saved.cookies);
  }

  #jar(what: string): CookieJar {
    if (this.cookieJar === undefined) throw new TypeError(`${what}: the browser keeps this session's cookies.`);
    return this.cookieJar;
  }

  // ---- the wire

  /** Asks for a CSRF token (`GET /auth/csrf`): sets the cookie, and says the token for pages that cannot read it. */
  async refreshCsrfToken(options: RequestOptions = {}): Promise<string | undefined> {
    const answer = await this.#send("GET", this.#resolve(EndpointPaths.csrf), undefined, options, false);
    if (answer.status >= 200 && answer.status < 300) {
      const body = parseJson(answer.body);
      const announced = answer.headers.get(HeaderNames.csrfToken)
        ?? (isObject(body) && typeof body["csrfToken"] === "string" ? body["csrfToken"] : undefined);
      if (announced !== null && announced !== undefined) this.#announcedToken = announced;
    }
    return this.csrfToken;
  }

  /**
   * Login, sign-up and a password change rotate the CSRF secret. A jar and a same-site page read the new cookie by
   * themselves; a page on another site cannot, so it asks for the token again.
   */
  async #afterTokenRotation(options: RequestOptions): Promise<void> {
    if (this.#cookies.csrfCookie(this.baseUrl) === undefined) {
      this.#announcedToken = undefined;
      await this.refreshCsrfToken(options);
    }
  }

  async #request<T>(method: HttpMethod, pathOrUrl: string, body: unknown, options: RequestOptions, login = false): Promise<T> {
    const answer = await this.#send(method, this.#resolve(pathOrUrl), body, options, login);
    return parseJson(answer.body) as T;
  }

  /**
   * Sends one request with the session's credentials and throws the typed error of a failure. An unsafe request carries
   * the CSRF token (fetched first when there is none yet) and is sent once more after a token refresh when the backend
   * says its CSRF check failed: the token may have been rotated, or the cookie replaced, since it was read.
   */
  async #send(method: HttpMethod, url: URL, body: unknown, options: RequestOptions, login: boolean): Promise<Answer> {
    this.#ensureSameOrigin(url);
    const unsafe = !isSafeMethod(method);
    if (unsafe && this.csrfToken === undefined) await this.refreshCsrfToken(options);
    let { answer, hadSession } = await this.#exchange(method, url, body, options);
    if (unsafe && answer.status === 403 && isCsrfFailure(answer.body)) {
      this.#announcedToken = undefined;
      await this.refreshCsrfToken(options);
      ({ answer, hadSession } = await this.#exchange(method, url, body, options));
    }
    if (answer.status >= 400) {
      throw errorFromAnswer({
        status: answer.status,
        body: answer.body,
        retryAfterHeader: answer.headers.get("retry-after"),
        request: `${method} ${url.href}`,
        login,
        hadSession,
      });
    }
    return answer;
  }

  /** One request and its answer, following same-origin redirects where the jar must see each hop. */
  async #exchange(method: HttpMethod, url: URL, body: unknown, options: RequestOptions): Promise<{ answer: Answer; hadSession: boolean }> {
    return this.#withDeadline(`${method} ${url.href}`, options.signal, async (signal) => {
      let hadSession = false;
      for (let hop = 0; ; hop++) {
        this.#ensureSameOrigin(url);
        const headers = new Headers({ Accept: "application/json" });
        hadSession = this.#cookies.prepare(url, headers);
        const unsafe = !isSafeMethod(method);
        if (unsafe) {
          const token = this.csrfToken;
          if (token !== undefined) headers.set(HeaderNames.csrfToken, token);
          // Django refuses an unsafe HTTPS request without Origin unless its Referer is a page of the same site; a
          // browser sends Origin itself, Node sends neither.
          if (this.#cookies.followsRedirectsItself && url.protocol === "https:") headers.set("Referer", `${url.origin}/`);
        }
        const init: RequestInit = {
          method,
          headers,
          credentials: this.#cookies.credentials,
          // A browser following a redirect would carry X-CSRFToken to wherever it leads: an unsafe request does not follow.
          redirect: this.#cookies.followsRedirectsItself ? "manual" : unsafe ? "error" : "follow",
          signal,
        };
        if (body !== undefined && method !== "GET" && method !== "HEAD") {
          if (isRawBody(body)) init.body = body;
          else {
            headers.set("Content-Type", "application/json");
            init.body = JSON.stringify(body);
          }
        }
        const response = await this.#fetch(url.href, init);
        this.#cookies.receive(url, response);
        const location = response.headers.get("location");
        if (this.#cookies.followsRedirectsItself && isRedirect(response.status) && location !== null && hop < maxRedirects) {
          await response.arrayBuffer(); // let the connection go back to the pool
          url = new URL(location, url);
          if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
            method = "GET";
            body = undefined;
          }
          continue;
        }
        return { answer: { status: response.status, headers: response.headers, url, body: await response.text() }, hadSession };
      }
    });
  }

  /**
   * Runs one exchange under the session's timeout and the caller's and session's abort signals (Node 18 has no
   * AbortSignal.any, so they are linked by hand). A timeout or a failed connection is a NetworkError; an abort is the
   * caller's own and is thrown as it came.
   */
  async #withDeadline<T>(what: string, callSignal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const outer = [this.#signal, callSignal].filter((signal): signal is AbortSignal => signal !== undefined);
    for (const signal of outer) signal.throwIfAborted();
    const forward = (event: Event) => controller.abort((event.target as AbortSignal).reason);
    for (const signal of outer) signal.addEventListener("abort", forward, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new NetworkError(`${what}: no answer within ${this.#timeoutMs / 1000} s.`));
    }, this.#timeoutMs);
    try {
      return await run(controller.signal);
    } catch (error) {
      if (error instanceof PosternError) throw error;
      if (timedOut) throw new NetworkError(`${what}: no answer within ${this.#timeoutMs / 1000} s.`, { request: what, cause: error });
      if (controller.signal.aborted) throw controller.signal.reason;
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new NetworkError(`${what}: cannot reach the backend: ${reason}`, { request: what, cause: error });
    } finally {
      clearTimeout(timer);
      for (const signal of outer) signal.removeEventListener("abort", forward);
    }
  }

  #ensureSameOrigin(url: URL): void {
    if (url.origin !== this.baseUrl.origin) {
      throw new CrossOriginError(`${url.href} is not on the backend's origin (${this.baseUrl.origin}): not sending the session there.`);
    }
  }

  /** An absolute URL as it is; a path joined onto the base URL's path. */
  #resolve(pathOrUrl: string): URL {
    if (/^[a-z][a-z\d+.-]*:/i.test(pathOrUrl)) return new URL(pathOrUrl);
    const prefix = this.baseUrl.pathname.replace(/\/+$/, "");
    const path = pathOrUrl.startsWith("/") ? pathOrUrl : `/${pathOrUrl}`;
    return new URL(`${prefix}${path}`, this.baseUrl.origin);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function isRawBody(body: unknown): body is RawBody {
  return (typeof FormData !== "undefined" && body instanceof FormData)
    || body instanceof URLSearchParams
    || (typeof Blob !== "undefined" && body instanceof Blob)
    || body instanceof ArrayBuffer;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The answer's JSON; undefined for an empty body (DRF's 204), the text itself when it is not JSON. */
function parseJson(body: string): unknown {
  if (body === "") return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** RFC 8288's `Link: <url>; rel="next"`. */
function nextFromLinkHeader(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}
