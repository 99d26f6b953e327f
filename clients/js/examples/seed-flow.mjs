// The seed's four steps with postern-client: a CSRF token, login, an authenticated read of the API, logout.
//
//   npm run build                      # once, in clients/js
//   node examples/seed-flow.mjs http://127.0.0.1:8000 alice [OTP]  <<< 'alice-password'
//
// The password is read from standard input (the first line; at a terminal, typed without echo), never from the command
// line, where other users of the machine could see it. OTP: the authenticator's code, when two-factor authentication is on.
import { createInterface } from "node:readline";
import { createSession, PosternError, TwoFactorRequiredError } from "postern-client";

const [baseUrl, username, otp] = process.argv.slice(2);
if (!baseUrl || !username) {
  console.error("usage: node examples/seed-flow.mjs BASE_URL USERNAME [OTP]   (the password on standard input)");
  process.exit(2);
}

const password = await readPassword(`Password for ${username}: `);
const session = createSession({ baseUrl });
try {
  // 1. GET /auth/csrf: the csrftoken cookie, whose value goes back in X-CSRFToken on every unsafe request.
  const token = await session.refreshCsrfToken();
  console.log(`1. CSRF token: ${token ? `${token.slice(0, 6)}… (${token.length} characters)` : "none"}`);

  // 2. POST /auth/login with the token: a sessionid cookie and a rotated token, both kept by the session.
  const login = await session.login(username, password, otp ? { otp } : {});
  console.log(`2. ${login.detail} (${login.username}); the token is now ${session.csrfToken?.slice(0, 6)}…`);

  // 3. An authenticated read: who am I, and the users, every page of them.
  const me = await session.whoami();
  const usernames = [];
  for await (const user of session.paginate("/api/users/")) usernames.push(user.username);
  console.log(`3. Signed in as ${me.username}${me.is_staff ? " (staff)" : ""}; ${usernames.length} users: ${usernames.join(", ")}`);

  // 4. Log out: the server ends the session.
  const logout = await session.logout();
  console.log(`4. ${logout.detail}`);
} catch (error) {
  if (error instanceof TwoFactorRequiredError) {
    console.error("Two-factor authentication is on: give the authenticator's code as the third argument.");
  } else if (error instanceof PosternError) {
    console.error(`${error.name}: ${error.message}`);
  } else {
    throw error;
  }
  process.exit(1);
}

/** The first line of standard input; at a terminal, asked for and typed without echo. */
async function readPassword(prompt) {
  const terminal = process.stdin.isTTY === true;
  const lines = createInterface({ input: process.stdin, output: terminal ? process.stderr : undefined, terminal });
  if (terminal) {
    process.stderr.write(prompt);
    lines._writeToOutput = () => {}; // no echo
  }
  for await (const line of lines) {
    lines.close();
    if (terminal) process.stderr.write("\n");
    return line;
  }
  return "";
}
