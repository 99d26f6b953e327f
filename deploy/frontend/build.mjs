// Builds the frontend into dist/ (esbuild bundles src/main.ts with postern-client; the HTML and CSS are copied), or with
// --serve rebuilds on every change and serves dist/ on loopback with the backend's paths proxied to a running backend:
//
//   node build.mjs                                   # dist/index.html, dist/app.js, dist/style.css
//   node build.mjs --serve [--port 5173] [--backend http://127.0.0.1:8000]
//
// The dev server does what nginx does in deploy/nginx/postern.conf.template: /api/, /api-auth/, /auth/, /healthz and
// /readyz go to the backend (with the browser's Host, so that the backend's links and CSRF Origin check see this
// origin), anything else is a file of dist/ or, for the app's own routes, index.html.
import { watch } from "node:fs";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const dist = join(here, "dist");

const { values: args } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    port: { type: "string", default: "5173" },
    backend: { type: "string", default: "http://127.0.0.1:8000" },
  },
});

// postern-client is installed from ../../clients/js (a link): its dist/ must have been built there first.
try {
  await readFile(join(here, "node_modules", "postern-client", "dist", "index.js"));
} catch {
  console.error("deploy/frontend: postern-client is not built. First: (cd clients/js && npm ci && npm run build), then npm ci here.");
  process.exit(1);
}

const options = {
  entryPoints: [join(src, "main.ts")],
  outfile: join(dist, "app.js"),
  bundle: true,
  format: "esm",
  target: ["es2022"],
  platform: "browser",
  minify: !args.serve,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "info",
};

async function copyStatic() {
  await mkdir(dist, { recursive: true });
  await copyFile(join(src, "index.html"), join(dist, "index.html"));
  await copyFile(join(src, "style.css"), join(dist, "style.css"));
}

/** esbuild plugin: copies index.html and style.css after every build, so that --serve picks up their changes too. */
const copyStaticPlugin = {
  name: "copy-static",
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length === 0) await copyStatic();
    });
  },
};

if (!args.serve) {
  await rm(dist, { recursive: true, force: true });
  await esbuild.build({ ...options, plugins: [copyStaticPlugin] });
} else {
  const context = await esbuild.context({ ...options, plugins: [copyStaticPlugin] });
  // esbuild watches what it bundles; the page and its style are copied again when they change.
  for (const name of ["index.html", "style.css"]) watch(join(src, name), () => copyStatic().catch((error) => console.error(error)));
  await context.watch();
  serve(Number(args.port), new URL(args.backend));
}

function serve(port, backend) {
  const backendPaths = /^\/((api|api-auth|auth)\/|(healthz|readyz)\/?(\?|$))/;
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json" };
  const server = createServer(async (req, res) => {
    const url = req.url ?? "/";
    if (backendPaths.test(url)) {
      const upstream = httpRequest({
        hostname: backend.hostname, port: backend.port, path: url, method: req.method,
        headers: { ...req.headers, "x-forwarded-host": req.headers.host ?? "", "x-forwarded-proto": "http" },
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", (error) => {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ detail: `No backend at ${backend.origin}: ${error.message}` }));
      });
      req.pipe(upstream);
      return;
    }
    // A file of dist/, or index.html for the app's routes (nginx's try_files $uri /index.html).
    const path = normalize(decodeURIComponent(new URL(url, "http://x").pathname));
    let file = resolve(dist, "." + path);
    if (!file.startsWith(dist + sep) || extname(file) === "") file = join(dist, "index.html");
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
      res.end(body);
    } catch {
      const body = await readFile(join(dist, "index.html"));
      res.writeHead(200, { "content-type": types[".html"], "cache-control": "no-cache" });
      res.end(body);
    }
  });
  server.listen(port, "127.0.0.1", () => {
    console.log(`frontend: http://localhost:${port}/ (the backend's paths go to ${backend.origin})`);
  });
}
