/**
 * A cookie jar for Node, whose fetch keeps no cookies. It is our own rather than tough-cookie because a session talks to
 * exactly one origin (requests elsewhere are refused before they leave), so of RFC 6265 it needs only the parsing of
 * Set-Cookie and the path, expiry and Secure rules: no public-suffix list, no cross-site bookkeeping, and no runtime
 * dependency for the package to carry.
 */

/** One cookie as the jar keeps it (and as `saveCookies()` writes it). */
export interface StoredCookie {
  name: string;
  value: string;
  /** The host it was set by, or the Domain attribute's domain (then `hostOnly` is false). */
  domain: string;
  hostOnly: boolean;
  path: string;
  /** When it expires, in milliseconds since the epoch; null for a cookie that lasts as long as the jar. */
  expires: number | null;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: string;
  /** When it was first set, in milliseconds since the epoch: older cookies are sent first among equal paths. */
  created: number;
}

export class CookieJar {
  #cookies: StoredCookie[] = [];

  constructor(cookies: readonly StoredCookie[] = []) {
    this.replaceAll(cookies);
  }

  /** Stores the cookies of one answer's `Set-Cookie` headers (each header one cookie, as `Headers.getSetCookie()` gives them). */
  storeFromResponse(url: URL, setCookieHeaders: readonly string[], now: number = Date.now()): void {
    for (const header of setCookieHeaders) {
      const cookie = parseSetCookie(header, url, now);
      if (cookie !== undefined) this.#put(cookie, now);
    }
  }

  /** Sets one cookie as if `url` had sent it (tests replace the CSRF cookie this way). */
  set(url: URL, name: string, value: string, now: number = Date.now()): void {
    this.#put(
      { name, value, domain: url.hostname.toLowerCase(), hostOnly: true, path: "/", expires: null, secure: false, httpOnly: false, created: now },
      now,
    );
  }

  /** The value of the cookie `name` that a request to `url` would carry, if any. */
  get(url: URL, name: string, now: number = Date.now()): string | undefined {
    return this.#matching(url, now).find((cookie) => cookie.name === name)?.value;
  }

  /** Forgets every cookie named `name` (whatever its path). */
  delete(name: string): void {
    this.#cookies = this.#cookies.filter((cookie) => cookie.name !== name);
  }

  /** The `Cookie` header for a request to `url`: empty when no cookie applies. */
  cookieHeader(url: URL, now: number = Date.now()): string {
    return this.#matching(url, now)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join("; ");
  }

  /** Replaces every cookie with these (saved ones): those not shaped like a cookie, or expired, are dropped. */
  replaceAll(cookies: readonly unknown[], now: number = Date.now()): void {
    this.#cookies = cookies.filter(isStoredCookie).filter((cookie) => !isExpired(cookie, now)).map((cookie) => ({ ...cookie }));
  }

  /** Every live cookie, copied (for saving). */
  all(now: number = Date.now()): StoredCookie[] {
    return this.#cookies.filter((cookie) => !isExpired(cookie, now)).map((cookie) => ({ ...cookie }));
  }

  #put(cookie: StoredCookie, now: number): void {
    const same = (other: StoredCookie) =>
      other.name === cookie.name && other.domain === cookie.domain && other.path === cookie.path;
    const existing = this.#cookies.find(same);
    this.#cookies = this.#cookies.filter((other) => !same(other));
    // An expiry in the past is how a server deletes a cookie (Django's delete_cookie: Max-Age=0).
    if (isExpired(cookie, now)) return;
    this.#cookies.push({ ...cookie, created: existing?.created ?? cookie.created });
  }

  #matching(url: URL, now: number): StoredCookie[] {
    const host = url.hostname.toLowerCase();
    const secure = url.protocol === "https:";
    return this.#cookies
      .filter(
        (cookie) =>
          !isExpired(cookie, now) &&
          (cookie.hostOnly ? cookie.domain === host : domainMatches(host, cookie.domain)) &&
          pathMatches(url.pathname, cookie.path) &&
          (!cookie.secure || secure),
      )
      .sort((a, b) => b.path.length - a.path.length || a.created - b.created);
  }
}

function isStoredCookie(value: unknown): value is StoredCookie {
  if (typeof value !== "object" || value === null) return false;
  const cookie = value as Record<string, unknown>;
  return typeof cookie["name"] === "string" && typeof cookie["value"] === "string" && typeof cookie["domain"] === "string"
    && typeof cookie["hostOnly"] === "boolean" && typeof cookie["path"] === "string"
    && (cookie["expires"] === null || typeof cookie["expires"] === "number")
    && typeof cookie["secure"] === "boolean" && typeof cookie["httpOnly"] === "boolean" && typeof cookie["created"] === "number";
}

function isExpired(cookie: StoredCookie, now: number): boolean {
  return cookie.expires !== null && cookie.expires <= now;
}

/** RFC 6265 §5.1.3. */
function domainMatches(host: string, domain: string): boolean {
  return host === domain || (host.endsWith(`.${domain}`) && !/^[\d.]+$|:/.test(host));
}

/** RFC 6265 §5.1.4. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/** RFC 6265 §5.1.4's default-path: the request path's "directory". */
function defaultPath(url: URL): string {
  const path = url.pathname;
  const lastSlash = path.lastIndexOf("/");
  return !path.startsWith("/") || lastSlash <= 0 ? "/" : path.slice(0, lastSlash);
}

/** RFC 6265 §5.2: one Set-Cookie header; undefined for one a user agent ignores. */
export function parseSetCookie(header: string, url: URL, now: number): StoredCookie | undefined {
  const [pair = "", ...attributes] = header.split(";");
  const equals = pair.indexOf("=");
  if (equals < 0) return undefined;
  const name = pair.slice(0, equals).trim();
  const value = pair.slice(equals + 1).trim();
  if (name === "") return undefined;
  const host = url.hostname.toLowerCase();
  const cookie: StoredCookie = {
    name, value, domain: host, hostOnly: true, path: defaultPath(url), expires: null, secure: false, httpOnly: false, created: now,
  };
  let maxAge: number | undefined;
  let expires: number | undefined;
  for (const attribute of attributes) {
    const separator = attribute.indexOf("=");
    const key = (separator < 0 ? attribute : attribute.slice(0, separator)).trim().toLowerCase();
    const argument = separator < 0 ? "" : attribute.slice(separator + 1).trim();
    switch (key) {
      case "max-age":
        if (/^-?\d+$/.test(argument)) maxAge = Number(argument);
        break;
      case "expires": {
        const date = Date.parse(argument);
        if (!Number.isNaN(date)) expires = date;
        break;
      }
      case "domain": {
        const domain = argument.replace(/^\./, "").toLowerCase();
        if (domain === "") break;
        // A cookie for a domain this host is not in is refused, as a browser refuses it.
        if (!domainMatches(host, domain)) return undefined;
        cookie.domain = domain;
        cookie.hostOnly = false;
        break;
      }
      case "path":
        if (argument.startsWith("/")) cookie.path = argument;
        break;
      case "secure":
        cookie.secure = true;
        break;
      case "httponly":
        cookie.httpOnly = true;
        break;
      case "samesite":
        cookie.sameSite = argument;
        break;
      default:
        break;
    }
  }
  // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
  if (maxAge !== undefined) cookie.expires = maxAge <= 0 ? 0 : now + maxAge * 1000;
  else if (expires !== undefined) cookie.expires = expires;
  return cookie;
}

/**
 * The Set-Cookie headers of an answer, one cookie each. `Headers.getSetCookie()` is in Node 18.14+ and current browsers;
 * other fetch implementations join them with ", ", split here where a new `name=` begins (an Expires date's comma is
 * followed by a day number, not by a name and "=").
 */
export function setCookieHeaders(headers: Headers): string[] {
  const withGetter = headers as Headers & { getSetCookie?: () => string[] };
  if (typeof withGetter.getSetCookie === "function") return withGetter.getSetCookie();
  const joined = headers.get("set-cookie");
  return joined === null ? [] : joined.split(/,(?=\s*[^;,=\s]+=)/).map((part) => part.trim());
}
