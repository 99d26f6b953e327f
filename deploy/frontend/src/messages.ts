/**
 * What the user is told: errors in #alert (role=alert: announced at once), the rest in #status (role=status), and DRF's
 * field errors beside their fields. Every error of postern-client carries the HTTP status and DRF's `detail`.
 */
import {
  CsrfFailedError,
  InvalidCredentialsError,
  NetworkError,
  NotAuthenticatedError,
  NotFoundError,
  PermissionDeniedError,
  PosternError,
  ReauthenticationRequiredError,
  ServerError,
  ThrottledError,
  ValidationError,
} from "postern-client";
import { byId, fill, h } from "./dom.js";

export function clearMessages(): void {
  fill(byId("alert"));
  fill(byId("status"));
}

export function sayError(text: string): void {
  byId("alert").appendChild(h("p", {}, text));
}

export function sayInfo(text: string): void {
  byId("status").appendChild(h("p", {}, text));
}

/** What an error means for the person in front of the page, in one sentence or two. */
export function describeError(error: unknown): string {
  if (error instanceof ThrottledError) {
    // DRF's detail says how long to wait ("Expected available in 42 seconds."); Retry-After says it when there is none.
    if (error.detail !== undefined) return `Too many requests. ${error.detail}`;
    const wait = error.retryAfter === undefined ? "" : ` Try again in ${error.retryAfter} second${error.retryAfter === 1 ? "" : "s"}.`;
    return `Too many requests: the server is throttling you.${wait}`;
  }
  if (error instanceof CsrfFailedError) {
    return `The server refused the request: ${error.detail ?? "CSRF verification failed."} Reload the page and try again;`
      + " if it keeps happening, clear this site's cookies.";
  }
  if (error instanceof InvalidCredentialsError) return error.detail ?? error.fieldErrors["code"]?.join(" ") ?? "Invalid username or password.";
  if (error instanceof ReauthenticationRequiredError) return error.detail ?? "Confirm your password to do this.";
  if (error instanceof NotAuthenticatedError) return "You are signed out: your session has ended or was ended elsewhere. Log in again.";
  if (error instanceof PermissionDeniedError) return error.detail ?? "You do not have permission to perform this action.";
  if (error instanceof NotFoundError) return error.detail ?? "Not found.";
  if (error instanceof ValidationError) {
    const general = [...(error.fieldErrors["non_field_errors"] ?? []), ...(error.detail === undefined ? [] : [error.detail])];
    return general.length > 0 ? general.join(" ") : "Some fields need another value: see the messages beside them.";
  }
  if (error instanceof ServerError) return `The server failed (${error.status ?? "5xx"}): ${error.detail ?? "try again shortly."}`;
  if (error instanceof NetworkError) return "The server did not answer. Check your connection and try again.";
  if (error instanceof PosternError) return error.detail ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Puts a form's field errors (DRF's 400) beside its fields, marks them invalid, and focuses the first; the rest of the
 * error goes to #alert. Fields are found by their `name`; messages for fields the form does not have go to #alert too.
 * Returns whether anything was put beside a field.
 */
export function showFormErrors(form: HTMLFormElement, error: unknown): boolean {
  clearFormErrors(form);
  const fieldErrors = error instanceof ValidationError ? error.fieldErrors : {};
  let first: HTMLElement | undefined;
  const elsewhere: string[] = [];
  for (const [name, messages] of Object.entries(fieldErrors)) {
    const control = form.elements.namedItem(name);
    const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(name)}"]`);
    if (name === "non_field_errors" || !(control instanceof HTMLElement) || slot === null) {
      if (name !== "non_field_errors") elsewhere.push(`${name}: ${messages.join(" ")}`);
      continue;
    }
    slot.textContent = messages.join(" ");
    control.setAttribute("aria-invalid", "true");
    first ??= control;
  }
  const formError = form.querySelector<HTMLElement>(".form-error");
  const summary = [describeError(error), ...elsewhere].join(" ");
  if (formError !== null) formError.textContent = (fieldErrors["non_field_errors"] ?? []).join(" ");
  sayError(summary);
  first?.focus();
  return first !== undefined;
}

export function clearFormErrors(form: HTMLFormElement): void {
  for (const slot of form.querySelectorAll<HTMLElement>("[data-error-for], .form-error")) slot.textContent = "";
  for (const invalid of form.querySelectorAll("[aria-invalid]")) invalid.removeAttribute("aria-invalid");
}
