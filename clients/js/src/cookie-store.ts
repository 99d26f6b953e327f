/**
 * Where a session's cookies live. In a browser they are the browser's (the sessionid cookie is HttpOnly: no script may
 * read it, nor should); in Node, whose fetch keeps none, they are in a jar of the session's own.
 */
import { CookieJar, setCookieHeaders } from "./cookie-jar.js";
import { CookieNames } from "./protocol.js";

export interface CookieStore {
  /** fetch's `credentials` for requests to the backend. */
  readonly credentials: RequestCredentials;
  /** Whether this store follows redirects itself (it must see each hop's cookies). */
  readonly followsRedirectsItself: boolean;
  /** The `csrftoken` cookie's value, as the next request would send it. */
  csrfCookie(url: URL): string | undefined;
  /** Adds what the request needs (the Cookie header); returns whether it carries a session cookie, when that is known. */
  prepare(url: URL, headers: Headers): boolean;
  /** Takes what an answer sets. */
  receive(url: URL, response: Response): void;
  /** After a logout: the session is over whatever the server said. */
  forgetSession(): void;
}

/** The browser's own cookies: sent by the browser, the CSRF cookie read from `document.cookie`. */
export class BrowserCookies implements CookieStore {
  readonly credentials: RequestCredentials;
  readonly followsRedirectsItself = false;

  constructor(baseUrl: URL, pageOrigin: string) {
    // "include" is what lets the browser send the backend's cookies to another origin (its CORS must allow credentials).
    this.credentials = baseUrl.origin === pageOrigin ? "same-origin" : "include";
  }

  csrfCookie(): string | undefined {
    return readDocumentCookie(CookieNames.csrf);
  }

  prepare(): boolean {
    return false; // the browser adds the cookies; an HttpOnly sessionid is not ours to see
  }

  receive(): void {}

  forgetSession(): void {}
}

/** A jar of the session's own (Node). */
export class JarCookies implements CookieStore {
  readonly credentials: RequestCredentials = "omit";
  readonly followsRedirectsItself = true;

  constructor(readonly jar: CookieJar) {}

  csrfCookie(url: URL): string | undefined {
    const value = this.jar.get(url, CookieNames.csrf);
    return value === "" ? undefined : value;
  }

  prepare(url: URL, headers: Headers): boolean {
    const cookieHeader = this.jar.cookieHeader(url);
    if (cookieHeader !== "") headers.set("Cookie", cookieHeader);
    const session = this.jar.get(url, CookieNames.session);
    return session !== undefined && session !== "" && session !== '""';
  }

  receive(url: URL, response: Response): void {
    this.jar.storeFromResponse(url, setCookieHeaders(response.headers));
  }

  forgetSession(): void {
    this.jar.delete(CookieNames.session);
  }
}

/** Whether this code runs in a page that has cookies (a browser, not Node or a worker). */
export function hasDocumentCookies(): boolean {
  const scope = globalThis as { document?: { cookie?: unknown } };
  return typeof scope.document?.cookie === "string";
}

function readDocumentCookie(name: string): string | undefined {
  const scope = globalThis as { document?: { cookie?: string } };
  for (const pair of (scope.document?.cookie ?? "").split(";")) {
    const equals = pair.indexOf("=");
    if (equals > 0 && pair.slice(0, equals).trim() === name) {
      const value = pair.slice(equals + 1).trim();
      return value === "" ? undefined : decodeURIComponent(value);
    }
  }
  return undefined;
}

/** The page's own origin in a browser, undefined elsewhere. */
export function pageOrigin(): string | undefined {
  const scope = globalThis as { location?: { origin?: unknown } };
  return typeof scope.location?.origin === "string" ? scope.location.origin : undefined;
}
