// What `npm pack` makes is a package a fresh project can install (offline, from the tarball), import, and type-check against.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(packageRoot, "node_modules/typescript/bin/tsc");
const folder = mkdtempSync(join(tmpdir(), "postern-client-pack-"));
after(() => rmSync(folder, { recursive: true, force: true }));

const run = (command, args, cwd) => execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

test("npm pack makes a package a fresh Node project installs, imports and type-checks", () => {
  // dist is built already (npm test builds first): skip prepack's second build.
  run("npm", ["pack", "--ignore-scripts", "--pack-destination", folder], packageRoot);
  const tarballs = readdirSync(folder).filter((name) => name.endsWith(".tgz"));
  assert.equal(tarballs.length, 1, `one tarball: ${tarballs}`);
  const listing = run("tar", ["-tzf", join(folder, tarballs[0])], folder).split("\n");
  assert.ok(listing.includes("package/dist/index.js") && listing.includes("package/dist/index.d.ts"), "the built code and its types");
  assert.ok(!listing.some((name) => name.startsWith("package/src/") || name.startsWith("package/test/")), "no sources, no tests");

  const project = join(folder, "consumer");
  run("mkdir", ["-p", project], folder);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(folder, tarballs[0])], project);

  writeFileSync(join(project, "use.mjs"), `
    import { createSession, InvalidCredentialsError, PosternError } from "postern-client";
    const session = createSession({ baseUrl: "http://127.0.0.1:8000" });
    if (typeof session.login !== "function" || typeof session.paginate !== "function") throw new Error("no session API");
    if (!(new InvalidCredentialsError("x") instanceof PosternError)) throw new Error("no error classes");
    console.log("imported");
  `);
  assert.equal(run("node", ["use.mjs"], project).trim(), "imported");

  writeFileSync(join(project, "use.ts"), `
    import { createSession, ThrottledError, type CurrentUser } from "postern-client";
    const session = createSession({ baseUrl: "http://127.0.0.1:8000", timeoutMs: 5000 });
    export async function main(): Promise<string> {
      try {
        await session.login("alice", "alice-password", { otp: "123456" });
      } catch (error) {
        if (error instanceof ThrottledError) return \`wait \${error.retryAfter ?? 0} s\`;
      }
      const me: CurrentUser = await session.whoami();
      for await (const user of session.paginate<{ username: string }>("/api/users/")) console.log(user.username);
      return me.username;
    }
  `);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2022", "DOM"], types: [] },
    files: ["use.ts"],
  }));
  run("node", [tsc, "-p", "tsconfig.json"], project);
});
