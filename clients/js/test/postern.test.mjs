// The shared scenarios against Postern, and what only Postern has: two-factor login, its sessions API, reauthentication,
// the account endpoints; and saving and loading a session's cookies.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createSession,
  CrossOriginError,
  InvalidCredentialsError,
  PermissionDeniedError,
  SessionExpiredError,
  TwoFactorRequiredError,
  ValidationError,
} from "../dist/index.js";
import { backendScenarios } from "./helpers/scenarios.mjs";
import { posternAccountFailures, startPostern, users } from "./helpers/servers.mjs";
import { totp } from "./helpers/totp.mjs";

backendScenarios("Postern", startPostern, { throttlesLogins: { failures: posternAccountFailures } }, (backend, newSession) => {
  /** A user of the test's own (made by staff through the API), so that its failures and its second factor touch no other test. */
  async function newUser(prefix) {
    const { session: staff } = newSession();
    await staff.login(users.staff.username, users.staff.password);
    const username = `${prefix}-${Date.now()}`;
    const password = `${prefix}-correct-horse-battery`;
    const created = await staff.post("/api/users/", { username, email: `${username}@example.org` });
    await staff.post(`${created.url}set_password/`, { password });
    return { username, password };
  }

  test("Postern: two-factor login with otp; without it a TwoFactorRequiredError, a wrong code an InvalidCredentialsError", async () => {
    const carol = await newUser("carol");
    const { session: setup } = newSession();
    await setup.login(carol.username, carol.password);
    const { secret } = await setup.setUpTotp();
    const activated = await setup.activateTotp(totp(secret));
    assert.equal(activated.recovery_codes.length, 10);
    assert.equal((await setup.twoFactorStatus()).totp_enabled, true);
    await setup.logout();

    const { session } = newSession();
    await assert.rejects(session.login(carol.username, carol.password), (error) => {
      assert.ok(error instanceof TwoFactorRequiredError);
      assert.equal(error.status, 401);
      assert.equal(error.detail, "Two-factor authentication required.");
      return true;
    });
    const right = totp(secret, { stepOffset: 1 });
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
    await assert.rejects(session.completeTwoFactor(wrong), InvalidCredentialsError);
    // The code of the next step: activation spent this one, and a code counts only once (drift of one step is allowed).
    const answer = await session.login(carol.username, carol.password, { otp: right });
    assert.equal(answer.username, carol.username);
    assert.equal((await session.whoami()).username, carol.username);
    const group = await session.get("/api/groups/");
    assert.ok(Array.isArray(group.results), "signed in: the API answers");
  });

  test("Postern: saved cookies resume the session in another client; another origin's are refused", async () => {
    const { session } = newSession();
    await session.login(users.staff.username, users.staff.password);
    const saved = session.saveCookies();
    const parsed = JSON.parse(saved);
    assert.equal(parsed.origin, new URL(backend().baseUrl).origin);
    assert.deepEqual(parsed.cookies.map((cookie) => cookie.name).sort(), ["csrftoken", "sessionid"]);

    const resumed = createSession({ baseUrl: backend().baseUrl });
    resumed.loadCookies(saved);
    assert.equal((await resumed.whoami()).username, users.staff.username);
    const group = await resumed.post("/api/groups/", { name: `resumed-${Date.now()}` });
    await resumed.delete(group.url);

    const elsewhere = createSession({ baseUrl: "http://127.0.0.1:1" });
    assert.throws(() => elsewhere.loadCookies(saved), CrossOriginError);
  });

  test("Postern: lists the user's sessions, revokes one, and every other", async () => {
    const dave = await newUser("dave");
    const sessions = [newSession().session, newSession().session, newSession().session];
    for (const session of sessions) await session.login(dave.username, dave.password);
    const [mine, second, third] = sessions;
    const listed = await mine.sessions();
    assert.equal(listed.length, 3);
    assert.equal(listed.filter((session) => session.current).length, 1);

    const secondsOwn = (await second.sessions()).find((session) => session.current);
    await mine.revokeSession(secondsOwn);
    await assert.rejects(second.whoami(), SessionExpiredError);

    const answer = await mine.revokeOtherSessions();
    assert.equal(answer.revoked, 1);
    await assert.rejects(third.whoami(), SessionExpiredError);
    assert.equal((await mine.whoami()).username, dave.username);
    assert.equal((await mine.sessions()).length, 1);
  });

  test("Postern: reauthenticate, change the password, and the account endpoints' typed answers", async () => {
    const erin = await newUser("erin");
    const { session } = newSession();
    await session.login(erin.username, erin.password);
    assert.equal((await session.reauthenticate({ password: erin.password })).detail, "Reauthenticated.");
    await assert.rejects(session.reauthenticate({ password: "not-it" }), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.fieldErrors, { password: ["Incorrect password."] });
      return true;
    });
    await assert.rejects(session.changePassword("not-it", "a-new-correct-horse"), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.ok(error.fieldErrors.old_password?.length === 1);
      return true;
    });
    const before = session.csrfToken;
    assert.equal((await session.changePassword(erin.password, "a-new-correct-horse")).detail, "New password has been saved.");
    assert.notEqual(session.csrfToken, before, "the password change rotates the token");
    assert.equal((await session.whoami()).username, erin.username, "still signed in");
    await assert.rejects(createSession({ baseUrl: backend().baseUrl }).login(erin.username, erin.password), InvalidCredentialsError);

    assert.equal((await session.requestPasswordReset(`${erin.username}@example.org`)).detail, "Password reset e-mail has been sent.");
    await assert.rejects(
      session.signup({ username: "frank", email: "frank@example.org", password: "frank-correct-horse" }),
      (error) => error instanceof PermissionDeniedError && error.detail === "Sign-up is closed.",
    );
  });
});
