// The scenarios every backend must pass, the same for Postern and both Django releases: the seed's flow and the client's
// promises about it (the rotated token, every page, a staff write, the CSRF retry, logout, the typed errors).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import {
  createSession,
  CrossOriginError,
  InvalidCredentialsError,
  NotAuthenticatedError,
  NotFoundError,
  PermissionDeniedError,
  ThrottledError,
  ValidationError,
} from "../../dist/index.js";
import { recordingFetch } from "./recording-fetch.mjs";
import { users } from "./servers.mjs";

/**
 * @param {string} name the backend, as the test names say it
 * @param {() => Promise<{baseUrl: string, stop: () => Promise<void>}>} start
 * @param {{ throttlesLogins: false | { failures: number } }} traits what the backend does that others may not
 * @param {(backend: () => {baseUrl: string}) => void} [more] scenarios of this backend only
 */
export function backendScenarios(name, start, traits, more) {
  describe(name, () => {
    let backend;
    before(async () => {
      backend = await start();
    });
    after(async () => {
      await backend?.stop();
    });

    /** A fresh session (its own cookie jar) whose requests are recorded. */
    const newSession = () => {
      const wire = recordingFetch();
      return { session: createSession({ baseUrl: backend.baseUrl, fetch: wire.fetch, timeoutMs: 20_000 }), requests: wire.requests };
    };

    test("logs in and says who is signed in", async () => {
      const { session } = newSession();
      const answer = await session.login(users.staff.username, users.staff.password);
      assert.equal(answer.detail, "Successfully logged in.");
      assert.equal(answer.username, users.staff.username);
      const me = await session.whoami();
      assert.equal(me.username, users.staff.username);
      assert.equal(me.is_staff, true);
    });

    test("picks up the CSRF token that login rotates", async () => {
      const { session, requests } = newSession();
      const before = await session.refreshCsrfToken();
      assert.ok(before, "GET /auth/csrf set a csrftoken cookie");
      await session.login(users.staff.username, users.staff.password);
      const after = session.csrfToken;
      assert.ok(after);
      assert.notEqual(after, before, "login rotates the token");
      const group = await session.post("/api/groups/", { name: `rotated-${Date.now()}` });
      await session.delete(group.url);
      const unsafe = requests.filter((request) => request.method !== "GET");
      assert.ok(unsafe.slice(1).every((request) => request.csrfToken === after), "every request after login carries the new token");
      assert.ok(requests.every((request) => request.status !== 403), "no CSRF refusal, no retry");
    });

    test("lists every page of /api/users/ (paginate follows next)", async () => {
      const { session, requests } = newSession();
      await session.login(users.reader.username, users.reader.password);
      const first = await session.get("/api/users/");
      const usernames = [];
      for await (const user of session.paginate("/api/users/")) usernames.push(user.username);
      assert.equal(usernames.length, first.count, "as many items as DRF's count");
      assert.equal(new Set(usernames).size, usernames.length, "no item twice");
      assert.ok(usernames.includes("alice") && usernames.includes("bob"));
      const pages = requests.filter((request) => request.url.includes("/api/users/")).length - 1;
      assert.ok(pages > 1, `more than one page was read (${pages})`);
    });

    test("a staff write: create, change and delete a group; a reader may not", async () => {
      const { session } = newSession();
      await session.login(users.staff.username, users.staff.password);
      const name = `js-${Date.now()}`;
      const created = await session.post("/api/groups/", { name });
      assert.equal(created.name, name);
      const changed = await session.patch(created.url, { name: `${name}-renamed` });
      assert.equal(changed.name, `${name}-renamed`);
      const read = await session.follow(created);
      assert.equal(read.name, `${name}-renamed`);
      assert.equal(await session.delete(created.url), undefined, "204: no body");
      await assert.rejects(session.get(created.url), NotFoundError);

      const reader = newSession().session;
      await reader.login(users.reader.username, users.reader.password);
      await assert.rejects(reader.post("/api/groups/", { name: `${name}-by-bob` }), (error) => {
        assert.ok(error instanceof PermissionDeniedError);
        assert.equal(error.status, 403);
        assert.equal(error.detail, "You do not have permission to perform this action.");
        return true;
      });
    });

    test("field errors come as a ValidationError with fieldErrors", async () => {
      const { session } = newSession();
      await session.login(users.staff.username, users.staff.password);
      await assert.rejects(session.post("/api/groups/", {}), (error) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.status, 400);
        assert.deepEqual(error.fieldErrors, { name: ["This field is required."] });
        return true;
      });
    });

    test("refreshes the token and retries once when the csrftoken cookie was replaced", async () => {
      const { session, requests } = newSession();
      await session.login(users.staff.username, users.staff.password);
      session.cookieJar.set(session.baseUrl, "csrftoken", "bogus");
      const sent = requests.length;
      const group = await session.post("/api/groups/", { name: `retried-${Date.now()}` });
      const wire = requests.slice(sent).map((request) => `${request.method} ${new URL(request.url).pathname} ${request.status}`);
      assert.deepEqual(wire, ["POST /api/groups/ 403", "GET /auth/csrf 200", "POST /api/groups/ 201"]);
      assert.notEqual(session.csrfToken, "bogus");
      await session.delete(group.url);
    });

    test("logout ends the session: whoami is refused, even with the old cookie", async () => {
      const { session } = newSession();
      await session.login(users.reader.username, users.reader.password);
      const signedIn = session.saveCookies();
      assert.equal((await session.logout()).detail, "Successfully logged out.");
      await assert.rejects(session.whoami(), (error) => {
        assert.ok(error instanceof NotAuthenticatedError);
        assert.equal(error.status, 403);
        assert.equal(error.detail, "Authentication credentials were not provided.");
        return true;
      });
      // The session ended on the server, not only here: its cookie no longer signs anyone in.
      session.loadCookies(signedIn);
      await assert.rejects(session.whoami(), NotAuthenticatedError);
    });

    test("a wrong password is an InvalidCredentialsError", async () => {
      const { session } = newSession();
      await assert.rejects(session.login(users.reader.username, "not-the-password"), (error) => {
        assert.ok(error instanceof InvalidCredentialsError);
        assert.equal(error.status, 401);
        assert.equal(error.detail, "Invalid username or password.");
        return true;
      });
    });

    test("never sends the session to another origin", async () => {
      const { session, requests } = newSession();
      await session.login(users.reader.username, users.reader.password);
      const sent = requests.length;
      await assert.rejects(session.follow("http://192.0.2.1/api/users/"), CrossOriginError);
      await assert.rejects(session.get(`${backend.baseUrl.replace(/:\d+$/, ":1")}/api/`), CrossOriginError);
      assert.equal(requests.length, sent, "nothing left");
    });

    test("examples/seed-flow.mjs runs the seed's four steps", async () => {
      const example = fileURLToPath(new URL("../../examples/seed-flow.mjs", import.meta.url));
      const output = await new Promise((done, fail) => {
        const child = execFile(process.execPath, [example, backend.baseUrl, users.reader.username], (error, stdout, stderr) =>
          error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout));
        child.stdin.end(`${users.reader.password}\n`);
      });
      const lines = output.trim().split("\n");
      assert.deepEqual(lines.map((line) => line.slice(0, 2)), ["1.", "2.", "3.", "4."]);
      assert.match(lines[1], /^2\. Successfully logged in\. \(bob\)/);
      assert.match(lines[2], /^3\. Signed in as bob; \d+ users: .*alice/);
      assert.equal(lines[3], "4. Successfully logged out.");
    });

    const throttles = traits.throttlesLogins;
    test(
      throttles
        ? "a throttled login is a ThrottledError with retryAfter"
        : `a throttled login (skipped: ${name} does not throttle logins)`,
      { skip: !throttles },
      async () => {
        const { session } = newSession();
        const username = `nobody-${Date.now()}`; // its own account: the lock must not touch the other scenarios' users
        for (let attempt = 0; attempt < throttles.failures; attempt++) {
          await assert.rejects(session.login(username, "wrong"), InvalidCredentialsError);
        }
        await assert.rejects(session.login(username, "wrong"), (error) => {
          assert.ok(error instanceof ThrottledError);
          assert.equal(error.status, 429);
          assert.ok(error.retryAfter > 0, `retryAfter ${error.retryAfter}`);
          assert.match(error.detail, /^Request was throttled\. Expected available in \d+ seconds?\.$/);
          return true;
        });
      },
    );

    more?.(() => backend, newSession);
  });
}
