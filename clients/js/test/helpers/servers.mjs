// Real backends for the tests, on loopback ports of their own: Postern (the built server) and the project's Django
// reference backend (tests/django-backend, 5.2 or 3.2). Each start is a fresh database; stop() ends the process this
// helper started, by its PID, and removes what it made.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const serverProject = join(repoRoot, "src/Postern.Server/Postern.Server.csproj");
const serverDll = join(repoRoot, "src/Postern.Server/bin/Release/net10.0/Postern.Server.dll");

/** The demo users both kinds of backend seed (Postern's --demo-data, Django's seed_users). */
export const users = {
  staff: { username: "alice", password: "alice-password" },
  reader: { username: "bob", password: "bob-password" },
};

/** Postern's failed-login lock, lowered so that the throttling scenario needs few attempts. */
export const posternAccountFailures = 3;

/** A port nobody listens on right now (the kernel's choice). */
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * Postern, built in Release (built here first when it is not: `npm test` works from a fresh clone with the .NET SDK),
 * on a fresh SQLite database with the demo users, few hash iterations (fast logins), 2 items a page (so that 3 users
 * span pages) and an account locked after {@link posternAccountFailures} failures.
 */
export async function startPostern() {
  if (!existsSync(serverDll)) {
    const build = spawnSync("dotnet", ["build", serverProject, "-c", "Release", "-nologo", "-v", "quiet"], { stdio: "inherit" });
    if (build.status !== 0) throw new Error(`could not build Postern.Server (dotnet build ${serverProject} -c Release)`);
  }
  const folder = mkdtempSync(join(tmpdir(), "postern-js-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn("dotnet", [serverDll, "serve", "--urls", baseUrl, "--db", join(folder, "p.sqlite3"), "--demo-data"], {
    cwd: folder,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DOTNET_CLI_TELEMETRY_OPTOUT: "1",
      DOTNET_NOLOGO: "1",
      Postern__Accounts__PasswordIterations: "1000",
      Postern__Api__PageSize: "2",
      Postern__Throttling__AccountFailures: String(posternAccountFailures),
      Logging__LogLevel__Default: "Warning",
    },
  });
  return running("Postern", child, baseUrl, "/readyz", () => rmSync(folder, { recursive: true, force: true }));
}

/** The Django reference backend of one release ("5.2" or "3.2"), under gunicorn, seeded by its run.sh. */
export async function startDjango(release) {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Its own process group, so that stop() reaches gunicorn's workers too (run.sh removes its database on TERM).
  const child = spawn("bash", [join(repoRoot, "tests/django-backend/run.sh"), String(port), "2"], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...process.env, DJANGO: release },
  });
  return running(`Django ${release}`, child, baseUrl, "/auth/csrf", () => {}, { group: true });
}

async function running(name, child, baseUrl, readyPath, cleanUp, { group = false } = {}) {
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  const stop = async () => {
    if (!gone) {
      try {
        process.kill(group ? -child.pid : child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(group ? -child.pid : child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    cleanUp();
  };
  const deadline = Date.now() + 90_000;
  while (true) {
    if (gone) {
      await stop();
      throw new Error(`${name} exited before it was ready:\n${output}`);
    }
    try {
      const answer = await fetch(baseUrl + readyPath, { signal: AbortSignal.timeout(2_000) });
      await answer.arrayBuffer();
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready at ${baseUrl}${readyPath} within 90 s:\n${output}`);
    }
    await new Promise((wake) => setTimeout(wake, 150));
  }
  return { name, baseUrl, stop, output: () => output };
}
