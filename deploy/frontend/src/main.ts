/**
 * The seed's frontend: log in (with the two-factor step), who am I, the API browsed by following its links, staff
 * edits from the API's own OPTIONS description, the user's sessions, log out. Served from the backend's origin
 * (nginx: deploy/nginx/postern.conf.template), so the browser keeps the cookies and postern-client the CSRF token.
 *
 * Routes (History API; nginx answers index.html for any path that is not a file):
 *   /                      who am I, or the login form
 *   /login                 the login form
 *   /browse/api/...        the API path after /browse, e.g. /browse/api/users/?page=2
 *   /sessions              the user's sessions
 */
import {
  createSession,
  type CurrentUser,
  NotAuthenticatedError,
  ReauthenticationRequiredError,
  type SessionInfo,
  TwoFactorRequiredError,
  ValidationError,
} from "postern-client";
import { byId, fill, h, when } from "./dom.js";
import { changedValues, fieldControls, type FieldInfo, formValues, type Metadata, type Values } from "./forms.js";
import { clearFormErrors, clearMessages, describeError, sayError, sayInfo, showFormErrors } from "./messages.js";

const session = createSession({ baseUrl: location.origin });
const main = byId("main");
const browsePrefix = "/browse";

/** Who is signed in; undefined before the first answer and when nobody is. */
let me: CurrentUser | undefined;

// ---- navigation

/** Shows the page for the current location. Called on start, after every navigation and on back/forward. */
async function route(): Promise<void> {
  const path = location.pathname;
  try {
    if (path === "/login") return showLogin();
    if (me === undefined) return showLogin(path + location.search);
    if (path === "/" || path === "") return showHome();
    if (path === "/sessions") return await showSessions();
    if (path === browsePrefix || path.startsWith(browsePrefix + "/")) {
      return await showBrowse(path.slice(browsePrefix.length) + location.search);
    }
    return showPage("Not found", h("p", {}, "There is no such page here. ", h("a", { href: "/", "data-route": true }, "Home")));
  } catch (error) {
    handleError(error);
  }
}

/** Goes to an address of this app without reloading the page. */
function navigate(to: string, options: { replace?: boolean; keepMessages?: boolean } = {}): Promise<void> {
  if (options.keepMessages !== true) clearMessages();
  if (options.replace === true) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  return route();
}

/** The app's address for a link of the API (same origin, under /api/), or undefined for anything else. */
function appAddress(apiUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(apiUrl, location.origin);
  } catch {
    return undefined;
  }
  if (url.origin !== location.origin || !url.pathname.startsWith("/api/")) return undefined;
  return browsePrefix + url.pathname + url.search;
}

/** A link of the API, followed inside the app; anything else as text. */
function apiLink(apiUrl: string, text?: string): Node {
  const address = appAddress(apiUrl);
  const label = text ?? new URL(apiUrl, location.origin).pathname.replace(/^\/api\//, "");
  return address === undefined ? document.createTextNode(apiUrl) : h("a", { href: address, "data-route": true }, label);
}

/** Replaces the page's content; its heading takes the focus, so that keyboard and screen-reader users start there. */
function showPage(title: string, ...content: (Node | null)[]): void {
  const heading = h("h1", { tabindex: -1 }, title);
  fill(main, heading, ...content);
  document.title = `${title} · Postern`;
  heading.focus();
}

// Links marked data-route are followed inside the app (a modified click opens a tab as usual).
document.addEventListener("click", (event) => {
  const link = (event.target as Element | null)?.closest?.("a[data-route]");
  if (!(link instanceof HTMLAnchorElement) || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  void navigate(link.pathname + link.search);
});
window.addEventListener("popstate", () => {
  clearMessages();
  void route();
});

// ---- who is signed in

function setSignedIn(user: CurrentUser | undefined): void {
  me = user;
  byId("nav").hidden = user === undefined;
  byId("account").hidden = user === undefined;
  byId("whoami").textContent = user?.username ?? "";
}

/**
 * What every view does with an error: a session that ended means the login form (with the message); anything else is
 * said in #alert.
 */
function handleError(error: unknown): void {
  if (error instanceof NotAuthenticatedError) {
    const wasSignedIn = me !== undefined;
    const next = nextOf(location.pathname + location.search);
    setSignedIn(undefined);
    clearMessages();
    sayError(wasSignedIn ? describeError(error) : "Log in to see this page.");
    history.replaceState(null, "", "/login");
    showLogin(next);
    return;
  }
  sayError(describeError(error));
}

function nextOf(path: string): string | undefined {
  return path === "/login" || path === "/" ? undefined : path;
}

byId("logout").addEventListener("click", async () => {
  clearMessages();
  try {
    await session.logout();
    sayInfo("You are logged out.");
  } catch (error) {
    // The server may have ended the session already; either way this page is signed out now.
    if (!(error instanceof NotAuthenticatedError)) sayError(describeError(error));
  }
  setSignedIn(undefined);
  await navigate("/login", { keepMessages: true });
});

// ---- log in

function showLogin(next?: string): void {
  if (me !== undefined) {
    void navigate("/", { replace: true, keepMessages: true });
    return;
  }
  const form = h("form", { id: "login-form", novalidate: true },
    h("p", { class: "form-error" }),
    h("div", { class: "field" },
      h("label", { for: "username" }, "Username"),
      h("input", { id: "username", name: "username", type: "text", autocomplete: "username", required: true, "aria-describedby": "username-error" }),
      h("p", { class: "field-error", id: "username-error", "data-error-for": "username" })),
    h("div", { class: "field" },
      h("label", { for: "password" }, "Password"),
      h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "password-error" }),
      h("p", { class: "field-error", id: "password-error", "data-error-for": "password" })),
    h("button", { type: "submit" }, "Log in"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitLogin(form, next);
  });
  showPage("Log in", form);
  byId<HTMLInputElement>("username").focus();
}

async function submitLogin(form: HTMLFormElement, next: string | undefined): Promise<void> {
  const username = (form.elements.namedItem("username") as HTMLInputElement).value;
  const password = (form.elements.namedItem("password") as HTMLInputElement).value;
  clearMessages();
  clearFormErrors(form);
  await busy(form, async () => {
    try {
      await session.login(username, password);
    } catch (error) {
      if (error instanceof TwoFactorRequiredError) return showTwoFactor(next);
      const password = form.elements.namedItem("password") as HTMLInputElement;
      password.value = "";
      if (!showFormErrors(form, error)) (error instanceof ValidationError ? form.querySelector("input") : password)?.focus();
      return;
    }
    await signedIn(next);
  });
}

/** The second step of a login when the server answered `mfa_required`: a code from the app, or a recovery code. */
function showTwoFactor(next: string | undefined): void {
  const form = h("form", { id: "two-factor-form", novalidate: true },
    h("p", {}, "Your password was right. Enter the code your authenticator app shows, or one of your recovery codes."),
    h("p", { class: "form-error" }),
    h("div", { class: "field" },
      h("label", { for: "code" }, "Authentication code"),
      h("input", { id: "code", name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code", required: true, "aria-describedby": "code-error" }),
      h("p", { class: "field-error", id: "code-error", "data-error-for": "code" })),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Verify"),
      h("button", { type: "button", class: "secondary", onclick: () => void navigate("/login") }, "Start again")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = (form.elements.namedItem("code") as HTMLInputElement).value.trim();
    clearMessages();
    void busy(form, async () => {
      try {
        await session.completeTwoFactor(code);
      } catch (error) {
        showFormErrors(form, error);
        const input = form.elements.namedItem("code") as HTMLInputElement;
        input.setAttribute("aria-invalid", "true");
        byId("code-error").textContent = describeError(error);
        input.select();
        input.focus();
        return;
      }
      await signedIn(next);
    });
  });
  showPage("Two-factor authentication", form);
  byId<HTMLInputElement>("code").focus();
}

async function signedIn(next: string | undefined): Promise<void> {
  setSignedIn(await session.whoami());
  sayInfo(`Signed in as ${me?.username ?? ""}.`);
  await navigate(next ?? "/", { replace: true, keepMessages: true });
}

/** Disables a form's buttons while its request runs (no double submits), and says it is busy. */
async function busy(form: HTMLFormElement, run: () => Promise<void>): Promise<void> {
  const buttons = [...form.querySelectorAll("button")];
  form.setAttribute("aria-busy", "true");
  for (const button of buttons) button.disabled = true;
  try {
    await run();
  } catch (error) {
    handleError(error);
  } finally {
    form.removeAttribute("aria-busy");
    for (const button of buttons) button.disabled = false;
  }
}

// ---- who am I

function showHome(): void {
  const user = me as CurrentUser;
  const rows: [string, Node | string][] = [
    ["Username", user.username],
    ["E-mail", user.email === undefined || user.email === "" ? "—" : user.email],
    ["Name", [user.first_name, user.last_name].filter(Boolean).join(" ") || "—"],
    ["Staff", user.is_staff === true ? "yes" : "no"],
  ];
  if (typeof user.url === "string") rows.push(["In the API", apiLink(user.url)]);
  showPage("Who am I",
    h("dl", { class: "fields", id: "me" }, rows.map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)])),
    h("p", {}, "Browse ", h("a", { href: `${browsePrefix}/api/`, "data-route": true }, "the API"),
      " or see ", h("a", { href: "/sessions", "data-route": true }, "your sessions"), "."));
}

// ---- the API, by its links

async function showBrowse(apiPath: string): Promise<void> {
  if (!apiPath.startsWith("/api/")) return navigate(`${browsePrefix}/api/`, { replace: true, keepMessages: true });
  const [data, metadata] = await Promise.all([
    session.get<unknown>(apiPath),
    // OPTIONS says the view's name and, for staff, which fields PUT and POST take; the page works without it.
    session.request<Metadata>("OPTIONS", apiPath).catch(() => undefined),
  ]);
  const title = metadata?.name ?? apiPath;
  const context = h("p", { class: "muted" }, h("code", {}, apiPath));
  if (isObject(data) && Array.isArray(data["results"])) {
    return showPage(title, context, listView(apiPath, data), createForm(apiPath, metadata));
  }
  if (isObject(data) && Object.values(data).every((value) => typeof value === "string" && appAddress(value) !== undefined)) {
    return showPage(title, context, h("ul", { class: "links", id: "resources" },
      Object.entries(data).map(([name, url]) => h("li", {}, apiLink(String(url), name)))));
  }
  if (isObject(data)) return showPage(title, context, detailView(data), editForm(apiPath, data, metadata));
  return showPage(title, context, h("pre", {}, JSON.stringify(data, null, 2)));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value of the API: links followed inside the app, lists of links as lists, the rest as text. */
function valueNode(value: unknown): Node {
  if (typeof value === "string" && /^https?:\/\//.test(value) && appAddress(value) !== undefined) return apiLink(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return document.createTextNode("—");
    return h("ul", { class: "links" }, value.map((item) => h("li", {}, valueNode(item))));
  }
  if (value === null || value === undefined || value === "") return document.createTextNode("—");
  if (typeof value === "boolean") return document.createTextNode(value ? "yes" : "no");
  if (typeof value === "object") return h("code", {}, JSON.stringify(value));
  return document.createTextNode(String(value));
}

/** How an item of a list is named in its link: its username, name, kind... or its address. */
function itemName(item: Record<string, unknown>): string {
  for (const field of ["username", "name", "kind", "prefix"]) {
    if (typeof item[field] === "string" && item[field] !== "") return item[field] as string;
  }
  return typeof item["url"] === "string" ? new URL(item["url"], location.origin).pathname : "item";
}

/** A page of a DRF list: a table of the items (each linked by its `url`), and the pager from `previous` and `next`. */
function listView(apiPath: string, page: Record<string, unknown>): Node {
  const items = (page["results"] as unknown[]).filter(isObject);
  const columns = [...new Set(items.flatMap((item) => Object.keys(item)))].filter((key) => key !== "url");
  const table = items.length === 0 ? h("p", {}, "Nothing here yet.") : h("table", { id: "items" },
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, column)))),
    h("tbody", {}, items.map((item) => h("tr", {}, columns.map((column, index) => h("td", {},
      index === 0 && typeof item["url"] === "string" ? apiLink(item["url"], String(item[column] ?? itemName(item))) : valueNode(item[column])))))));
  const pageNumber = new URL(apiPath, location.origin).searchParams.get("page") ?? "1";
  const count = typeof page["count"] === "number" ? page["count"] : undefined;
  const links: Node[] = [];
  if (typeof page["previous"] === "string") links.push(h("li", {}, apiLink(page["previous"], "Previous page")));
  if (typeof page["next"] === "string") links.push(h("li", {}, apiLink(page["next"], "Next page")));
  return h("div", {}, table,
    h("nav", { class: "pager", "aria-label": "Pages" },
      h("span", { id: "page-info" }, `Page ${pageNumber}${count === undefined ? "" : ` · ${count} in all`}`),
      links.length > 0 ? h("ul", {}, links) : null));
}

/** An object of the API: its fields, links followed inside the app. */
function detailView(data: Record<string, unknown>): Node {
  return h("dl", { class: "fields", id: "detail" },
    Object.entries(data).map(([name, value]) => [h("dt", {}, name), h("dd", { "data-field": name }, valueNode(value))]));
}

/** Staff: an edit form when OPTIONS says PUT is allowed; sends PATCH with the changed fields only. */
function editForm(apiPath: string, data: Record<string, unknown>, metadata: Metadata | undefined): Node | null {
  const fields = metadata?.actions?.PUT;
  if (fields === undefined || !Object.values(fields).some((info) => info.read_only !== true)) return null;
  return writeForm("edit", "Edit", fields, data, async (values) => {
    const changes = changedValues(values, data);
    if (Object.keys(changes).length === 0) {
      sayInfo("Nothing changed.");
      return;
    }
    const saved = await session.patch<Record<string, unknown>>(apiPath, changes);
    const address = typeof saved?.["url"] === "string" ? appAddress(saved["url"]) : undefined;
    await navigate(address ?? browsePrefix + apiPath, { replace: true });
    sayInfo(`Saved: ${Object.keys(changes).join(", ")}.`);
  });
}

/** Staff: a form to create an object on a list, when OPTIONS says POST is allowed. */
function createForm(apiPath: string, metadata: Metadata | undefined): Node | null {
  const fields = metadata?.actions?.POST;
  if (fields === undefined) return null;
  const form = writeForm("create", "Create", fields, {}, async (values) => {
    const created = await session.post<Record<string, unknown>>(apiPath, values);
    const address = typeof created?.["url"] === "string" ? appAddress(created["url"]) : undefined;
    await navigate(address ?? browsePrefix + apiPath);
    sayInfo("Created.");
  });
  return h("details", {}, h("summary", {}, `New: ${metadata?.name?.replace(/ List$/, "").toLowerCase() ?? "object"}`), form);
}

function writeForm(prefix: string, title: string, fields: Record<string, FieldInfo>, values: Values,
  submit: (values: Values) => Promise<void>): HTMLElement {
  const headingId = `${prefix}-heading`;
  const form = h("form", { id: `${prefix}-form`, novalidate: true, "aria-labelledby": headingId },
    h("p", { class: "form-error" }),
    fieldControls(prefix, fields, values),
    h("button", { type: "submit" }, prefix === "edit" ? "Save" : "Create"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    clearFormErrors(form);
    void busy(form, async () => {
      try {
        await submit(formValues(form, fields));
      } catch (error) {
        if (error instanceof NotAuthenticatedError) throw error;
        showFormErrors(form, error);
      }
    });
  });
  return h("section", {}, h("h2", { id: headingId }, title), form);
}

// ---- sessions

async function showSessions(): Promise<void> {
  const sessions = await session.sessions();
  const others = sessions.filter((s) => !s.current).length;
  const table = h("table", { id: "sessions" },
    h("caption", { class: "muted" }, `${sessions.length} session${sessions.length === 1 ? "" : "s"}`),
    h("thead", {}, h("tr", {}, ["Browser", "Signed in", "Last seen", "Expires", ""].map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, sessions.map((s, index) => sessionRow(s, index))));
  const everywhere = h("button", { type: "button", id: "revoke-others", disabled: others === 0 }, "Log out everywhere else");
  everywhere.addEventListener("click", () => void revokeOthers(everywhere));
  showPage("Your sessions",
    h("p", {}, "Every browser or device signed in as you. Ending a session signs that browser out at once."),
    table, h("div", { class: "actions" }, everywhere));
}

function sessionRow(info: SessionInfo, index: number): HTMLElement {
  const describedBy = `session-${index}`;
  const button = h("button", { type: "button", class: "secondary", "aria-describedby": describedBy },
    info.current ? "Log out" : "Log out this one");
  button.addEventListener("click", async () => {
    clearMessages();
    button.disabled = true;
    try {
      await session.revokeSession(info);
    } catch (error) {
      button.disabled = false;
      return handleError(error);
    }
    if (info.current) {
      setSignedIn(undefined);
      sayInfo("You are logged out.");
      return navigate("/login", { keepMessages: true });
    }
    await navigate("/sessions", { replace: true });
    sayInfo("That session was ended.");
  });
  return h("tr", { "data-current": String(info.current) },
    h("td", { id: describedBy }, info.user_agent || "Unknown browser", info.current ? [" ", h("span", { class: "badge" }, "this browser")] : null),
    h("td", {}, when(info.created)), h("td", {}, when(info.last_seen)), h("td", {}, when(info.expires)),
    h("td", {}, button));
}

/** "Log out everywhere else"; when the login is not recent enough, the password first (Postern's reauthentication). */
async function revokeOthers(button: HTMLButtonElement): Promise<void> {
  clearMessages();
  button.disabled = true;
  try {
    const answer = await session.revokeOtherSessions();
    await navigate("/sessions", { replace: true });
    sayInfo(answer.detail);
  } catch (error) {
    button.disabled = false;
    if (error instanceof ReauthenticationRequiredError) return askPassword(button);
    handleError(error);
  }
}

function askPassword(button: HTMLButtonElement): void {
  const form = h("form", { id: "reauthenticate-form", novalidate: true },
    h("p", {}, "To log out everywhere else, confirm your password."),
    h("p", { class: "form-error" }),
    h("div", { class: "field" },
      h("label", { for: "reauth-password" }, "Password"),
      h("input", { id: "reauth-password", name: "password", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "reauth-password-error" }),
      h("p", { class: "field-error", id: "reauth-password-error", "data-error-for": "password" })),
    h("button", { type: "submit" }, "Confirm"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearMessages();
    void busy(form, async () => {
      try {
        await session.reauthenticate({ password: (form.elements.namedItem("password") as HTMLInputElement).value });
      } catch (error) {
        if (error instanceof NotAuthenticatedError) throw error;
        showFormErrors(form, error);
        return;
      }
      form.remove();
      await revokeOthers(button);
    });
  });
  button.after(form);
  byId("reauth-password").focus();
}

// ---- start

async function start(): Promise<void> {
  try {
    setSignedIn(await session.whoami());
  } catch (error) {
    setSignedIn(undefined);
    if (!(error instanceof NotAuthenticatedError)) sayError(describeError(error));
  }
  await route();
}

void start();
