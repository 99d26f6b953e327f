// What needs no backend: the cookie jar's rules, the mapping of answers to typed errors, timeouts and unreachable
// backends, the browser mode (with a stand-in document and fetch), Link-header pagination, redirects and base paths.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, test } from "node:test";
import { parseSetCookie, setCookieHeaders } from "../dist/cookie-jar.js";
import { errorFromAnswer, parseRetryAfter } from "../dist/errors.js";
import {
  CookieJar,
  createSession,
  CrossOriginError,
  CsrfFailedError,
  InvalidCredentialsError,
  NetworkError,
  NotAuthenticatedError,
  NotFoundError,
  PermissionDeniedError,
  PosternError,
  ReauthenticationRequiredError,
  ServerError,
  SessionExpiredError,
  ThrottledError,
  TwoFactorRequiredError,
  ValidationError,
} from "../dist/index.js";
import { freePort } from "./helpers/servers.mjs";

const base = new URL("http://127.0.0.1:8000/");

describe("the cookie jar", () => {
  test("keeps Django's cookies and deletes the one Django expires", () => {
    const jar = new CookieJar();
    jar.storeFromResponse(base, [
      "csrftoken=abc; expires=Sun, 05 Dec 2027 03:12:12 GMT; Max-Age=31449600; Path=/; SameSite=Lax",
      "sessionid=s3cr3t; expires=Sun, 20 Dec 2026 03:12:12 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax",
    ]);
    assert.equal(jar.cookieHeader(new URL("/api/users/", base)), "csrftoken=abc; sessionid=s3cr3t");
    jar.storeFromResponse(base, ['sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax']);
    assert.equal(jar.cookieHeader(base), "csrftoken=abc");
  });

  test("Max-Age wins over Expires, and a cookie past its time is not sent", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const cookie = parseSetCookie("a=1; Expires=Thu, 01 Jan 2037 00:00:00 GMT; Max-Age=10", base, now);
    assert.equal(cookie.expires, now + 10_000);
    const jar = new CookieJar();
    jar.replaceAll([cookie], now);
    assert.equal(jar.get(base, "a", now + 9_000), "1");
    assert.equal(jar.get(base, "a", now + 10_000), undefined);
  });

  test("paths, Secure and foreign domains as RFC 6265 has them", () => {
    const jar = new CookieJar();
    jar.storeFromResponse(new URL("/api/login", base), [
      "scoped=1; Path=/api",
      "defaulted=1", // default path: /api
      "secure=1; Secure; Path=/",
      "foreign=1; Domain=example.com; Path=/",
    ]);
    assert.equal(jar.cookieHeader(new URL("/api/groups/", base)), "scoped=1; defaulted=1");
    assert.equal(jar.cookieHeader(new URL("/apix", base)), "");
    assert.equal(jar.cookieHeader(new URL("https://127.0.0.1:8000/")), "secure=1");
    assert.equal(jar.get(base, "foreign"), undefined, "a Domain this host is not in is refused");
  });

  test("loadCookies takes only what saveCookies wrote, for the same origin", () => {
    const session = createSession({ baseUrl: base });
    session.cookieJar.set(base, "sessionid", "abc");
    const saved = session.saveCookies();
    const other = createSession({ baseUrl: base });
    other.loadCookies(saved);
    assert.equal(other.cookieJar.get(base, "sessionid"), "abc");
    assert.throws(() => other.loadCookies("[]"), TypeError);
    assert.throws(() => createSession({ baseUrl: "http://127.0.0.1:8001" }).loadCookies(saved), CrossOriginError);
  });

  test("splits Set-Cookie headers joined with commas (fetch implementations without getSetCookie)", () => {
    const joined = { get: () => "a=1; expires=Thu, 01 Jan 2037 00:00:00 GMT; Path=/, b=2; Path=/" };
    assert.deepEqual(setCookieHeaders(joined), ["a=1; expires=Thu, 01 Jan 2037 00:00:00 GMT; Path=/", "b=2; Path=/"]);
  });
});

describe("answers to typed errors (as the .NET client's ErrorMapping)", () => {
  const answer = (status, body, extra = {}) => errorFromAnswer({
    status, body: typeof body === "string" ? body : JSON.stringify(body), retryAfterHeader: null,
    request: "POST http://127.0.0.1:8000/x", login: false, hadSession: false, ...extra,
  });

  const cases = [
    [CsrfFailedError, 403, { detail: "CSRF Failed: CSRF token missing." }],
    [CsrfFailedError, 403, "<h1>Forbidden <span>(403)</span></h1><p>CSRF verification failed. Request aborted.</p>"],
    [TwoFactorRequiredError, 401, { detail: "Two-factor authentication required.", mfa_required: true }, { login: true }],
    [TwoFactorRequiredError, 401, { detail: "Two-factor authentication required.", code: "mfa_required" }, { login: true }],
    [ReauthenticationRequiredError, 401, { detail: "Reauthentication required.", reauthentication_required: true }],
    [InvalidCredentialsError, 401, { detail: "Invalid username or password." }, { login: true }],
    [NotAuthenticatedError, 403, { detail: "Authentication credentials were not provided." }],
    [SessionExpiredError, 403, { detail: "Authentication credentials were not provided." }, { hadSession: true }],
    [PermissionDeniedError, 403, { detail: "You do not have permission to perform this action." }],
    [ValidationError, 400, { name: ["This field is required."] }],
    [PosternError, 400, { detail: "Malformed request body." }],
    [NotFoundError, 404, { detail: "Not found." }],
    [ServerError, 503, { detail: "Service temporarily unavailable, try again shortly." }],
    [ThrottledError, 429, { detail: "Request was throttled. Expected available in 60 seconds." }],
  ];
  for (const [kind, status, body, extra] of cases) {
    test(`${status} ${typeof body === "string" ? "(HTML)" : JSON.stringify(body)}${extra ? ` ${JSON.stringify(extra)}` : ""} → ${kind.name}`, () => {
      const error = answer(status, body, extra);
      assert.equal(error.constructor, kind);
      assert.ok(error instanceof PosternError);
      assert.equal(error.name, kind.name);
      assert.equal(error.status, status);
      assert.equal(error.request, "POST http://127.0.0.1:8000/x");
      if (typeof body === "object" && typeof body.detail === "string") assert.equal(error.detail, body.detail);
    });
  }

  test("ValidationError carries the field errors; CsrfFailedError from HTML a detail of its own", () => {
    assert.deepEqual(answer(400, { name: ["This field is required."] }).fieldErrors, { name: ["This field is required."] });
    assert.equal(answer(403, "CSRF verification failed.").detail, "CSRF verification failed.");
  });

  test("Retry-After in seconds or as a date", () => {
    assert.equal(answer(429, {}, { retryAfterHeader: "60" }).retryAfter, 60);
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:01:30 GMT", now), 90);
    assert.equal(parseRetryAfter(null), undefined);
  });
});

describe("no answer", () => {
  test("a backend that does not answer in time is a NetworkError", async () => {
    const silent = createServer(() => {}); // takes the request, never answers
    await new Promise((listening) => silent.listen(0, "127.0.0.1", listening));
    try {
      const session = createSession({ baseUrl: `http://127.0.0.1:${silent.address().port}`, timeoutMs: 200 });
      await assert.rejects(session.get("/api/"), (error) => {
        assert.ok(error instanceof NetworkError);
        assert.match(error.message, /no answer within 0\.2 s/);
        return true;
      });
    } finally {
      silent.closeAllConnections?.();
      silent.close();
    }
  });

  test("a port nobody listens on is a NetworkError", async () => {
    const session = createSession({ baseUrl: `http://127.0.0.1:${await freePort()}` });
    await assert.rejects(session.whoami(), NetworkError);
  });

  test("the caller's abort is thrown as it came, not as a NetworkError", async () => {
    const controller = new AbortController();
    const session = createSession({
      baseUrl: base,
      signal: controller.signal,
      fetch: (_url, init) => new Promise((_resolve, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason))),
    });
    const pending = session.get("/api/");
    controller.abort(new Error("the page went away"));
    await assert.rejects(pending, { message: "the page went away" });
  });
});

/** A stand-in fetch that answers from a table and notes the requests. */
function fakeBackend(routes) {
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({ url, method: init.method, headers: new Headers(init.headers), credentials: init.credentials, redirect: init.redirect });
    const route = routes[`${init.method} ${new URL(url).pathname}${new URL(url).search}`];
    if (route === undefined) return new Response(JSON.stringify({ detail: "Not found." }), { status: 404 });
    return typeof route === "function" ? route() : new Response(JSON.stringify(route.body ?? null), { status: route.status ?? 200, headers: route.headers });
  };
  return { fetch, requests };
}

describe("in a browser", () => {
  function withPage(origin, cookie, run) {
    return async () => {
      globalThis.document = { cookie };
      globalThis.location = { origin };
      try {
        await run();
      } finally {
        delete globalThis.document;
        delete globalThis.location;
      }
    };
  }

  test("another origin: credentials included, the token read from document.cookie, no Cookie header of ours",
    withPage("http://localhost:5173", "theme=dark; csrftoken=from-the-page", async () => {
      const backend = fakeBackend({ "POST /api/groups/": { status: 201, body: { name: "x" } } });
      const session = createSession({ baseUrl: "http://localhost:8000", fetch: backend.fetch });
      assert.equal(session.cookieJar, undefined, "the browser keeps the cookies");
      await session.post("/api/groups/", { name: "x" });
      const [request] = backend.requests;
      assert.equal(request.credentials, "include");
      assert.equal(request.headers.get("X-CSRFToken"), "from-the-page");
      assert.equal(request.headers.get("Cookie"), null);
      assert.equal(request.redirect, "error", "an unsafe request does not follow a redirect with its token");
      assert.throws(() => session.saveCookies(), TypeError);
    }));

  test("the same origin: credentials same-origin",
    withPage("http://localhost:8000", "csrftoken=t", async () => {
      const backend = fakeBackend({ "GET /auth/user": { body: { username: "alice" } } });
      await createSession({ baseUrl: "http://localhost:8000", fetch: backend.fetch }).whoami();
      assert.equal(backend.requests[0].credentials, "same-origin");
    }));

  test("a cookie the page cannot read: the token /auth/csrf announces, asked again after login",
    withPage("https://app.example.org", "", async () => {
      let issued = 0;
      const backend = fakeBackend({
        "GET /auth/csrf": () => new Response(JSON.stringify({ csrfToken: `token-${++issued}` }), { headers: { "X-CSRFToken": `token-${issued}` } }),
        "POST /auth/login": { body: { detail: "Successfully logged in.", username: "alice" } },
        "POST /api/groups/": { status: 201, body: {} },
      });
      const session = createSession({ baseUrl: "https://api.example.org", fetch: backend.fetch });
      await session.login("alice", "alice-password");
      await session.post("/api/groups/", { name: "x" });
      const wire = backend.requests.map((request) => `${request.method} ${new URL(request.url).pathname} ${request.headers.get("X-CSRFToken")}`);
      assert.deepEqual(wire, ["GET /auth/csrf null", "POST /auth/login token-1", "GET /auth/csrf null", "POST /api/groups/ token-2"]);
    }));
});

describe("links, pages and redirects", () => {
  test("paginate follows a Link header over plain arrays, and stops at a page already read", async () => {
    const link = (next) => ({ Link: `<http://127.0.0.1:8000${next}>; rel="next"` });
    const backend = fakeBackend({
      "GET /items": { body: [1, 2], headers: link("/items?page=2") },
      "GET /items?page=2": { body: [3], headers: link("/items") },
    });
    const session = createSession({ baseUrl: base, fetch: backend.fetch });
    const items = [];
    for await (const item of session.paginate("/items")) items.push(item);
    assert.deepEqual(items, [1, 2, 3]);
  });

  test("paginate refuses a next link to another origin", async () => {
    const backend = fakeBackend({ "GET /api/users/": { body: { count: 3, next: "http://evil.example/api/users/?page=2", results: [1] } } });
    const session = createSession({ baseUrl: base, fetch: backend.fetch });
    const items = [];
    await assert.rejects(async () => {
      for await (const item of session.paginate("/api/users/")) items.push(item);
    }, CrossOriginError);
    assert.deepEqual(items, [1]);
    assert.equal(backend.requests.length, 1);
  });

  test("a jar follows a same-origin redirect itself and refuses one to another origin", async () => {
    const backend = fakeBackend({
      "GET /api/users": { status: 301, headers: { Location: "/api/users/", "Set-Cookie": "seen=1; Path=/" } },
      "GET /api/users/": { body: { count: 0, results: [] } },
      "GET /away": { status: 302, headers: { Location: "http://evil.example/" } },
    });
    const session = createSession({ baseUrl: base, fetch: backend.fetch });
    assert.deepEqual(await session.get("/api/users"), { count: 0, results: [] });
    assert.equal(backend.requests[1].headers.get("Cookie"), "seen=1", "the redirect's cookie goes with the next hop");
    await assert.rejects(session.get("/away"), CrossOriginError);
    assert.equal(backend.requests.length, 3);
  });

  test("paths are joined onto the base URL's path", async () => {
    const backend = fakeBackend({ "GET /backend/api/": { body: {} } });
    await createSession({ baseUrl: "http://127.0.0.1:8000/backend/", fetch: backend.fetch }).get("/api/");
    assert.equal(backend.requests[0].url, "http://127.0.0.1:8000/backend/api/");
  });
});
