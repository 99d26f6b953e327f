/**
 * Forms made from the API's own description: DRF's OPTIONS answer lists, for each of POST and PUT the user may send,
 * the fields with their type, label, help and whether they are required or read-only. Nothing here knows users or
 * groups: a new resource gets its form from the server.
 */
import { h } from "./dom.js";

/** One field of DRF's OPTIONS metadata (`actions.POST.name`, `actions.PUT.name`). */
export interface FieldInfo {
  type: string;
  required?: boolean;
  read_only?: boolean;
  label?: string;
  help_text?: string;
  max_length?: number;
  choices?: { value: unknown; display_name: string }[];
}

/** DRF's answer to OPTIONS. */
export interface Metadata {
  name?: string;
  description?: string;
  actions?: Partial<Record<"POST" | "PUT", Record<string, FieldInfo>>>;
}

export type Values = Record<string, unknown>;

/** A labelled input for each writable field, its help and an empty slot for its errors. */
export function fieldControls(prefix: string, fields: Record<string, FieldInfo>, values: Values): HTMLElement[] {
  const controls: HTMLElement[] = [];
  for (const [name, info] of Object.entries(fields)) {
    if (info.read_only === true) continue;
    const id = `${prefix}-${name}`;
    const helpId = `${id}-help`;
    const errorId = `${id}-error`;
    const describedBy = [info.help_text === undefined ? undefined : helpId, errorId].filter(Boolean).join(" ");
    const value = values[name];
    const common = { id, name, "aria-describedby": describedBy, required: info.required === true && info.type !== "boolean" };
    let control: HTMLElement;
    let kind = "field";
    if (info.type === "boolean") {
      control = h("input", { ...common, type: "checkbox", checked: value === true });
      kind = "field checkbox";
    } else if (info.type === "choice" && info.choices !== undefined) {
      control = h("select", common,
        info.required === true ? null : h("option", { value: "" }, "—"),
        info.choices.map((choice) => h("option", { value: String(choice.value), selected: choice.value === value }, choice.display_name)));
    } else if (Array.isArray(value) || (info.type === "field" && name.endsWith("s"))) {
      // A list of links (e.g. a user's groups): one per line.
      control = h("textarea", { ...common, "data-list": "lines", rows: 3 }, Array.isArray(value) ? value.map(String).join("\n") : "");
    } else {
      const type = info.type === "email" ? "email" : info.type === "integer" ? "number" : "text";
      control = h("input", {
        ...common, type, value: value === null || value === undefined ? "" : String(value), maxlength: info.max_length,
        autocomplete: "off",
      });
    }
    const label = h("label", { for: id }, info.label ?? name, info.required === true && info.type !== "boolean"
      ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null);
    controls.push(h("div", { class: kind },
      kind === "field checkbox" ? [control, label] : [label, control],
      info.help_text === undefined ? null : h("p", { class: "help", id: helpId }, info.help_text),
      h("p", { class: "field-error", id: errorId, "data-error-for": name })));
  }
  return controls;
}

/** What the form's controls hold, as the API takes it (JSON types; a list of lines as an array). */
export function formValues(form: HTMLFormElement, fields: Record<string, FieldInfo>): Values {
  const values: Values = {};
  for (const [name, info] of Object.entries(fields)) {
    const control = form.elements.namedItem(name);
    if (info.read_only === true || control === null) continue;
    if (control instanceof HTMLInputElement && control.type === "checkbox") values[name] = control.checked;
    else if (control instanceof HTMLTextAreaElement && control.dataset["list"] === "lines") {
      values[name] = control.value.split("\n").map((line) => line.trim()).filter((line) => line !== "");
    } else if (control instanceof HTMLInputElement || control instanceof HTMLSelectElement || control instanceof HTMLTextAreaElement) {
      values[name] = info.type === "integer" && control.value !== "" ? Number(control.value) : control.value;
    }
  }
  return values;
}

/** The fields whose value differs from the object's: what a PATCH sends. */
export function changedValues(values: Values, original: Values): Values {
  const changed: Values = {};
  for (const [name, value] of Object.entries(values)) {
    if (JSON.stringify(value) !== JSON.stringify(original[name] ?? (typeof value === "string" ? "" : original[name]))) changed[name] = value;
  }
  return changed;
}
