/**
 * A few DOM helpers. Everything the API sends is put in the page as text (textContent, attributes), never as HTML:
 * a user named `<img onerror=...>` stays a name.
 */

type Child = Node | string | number | boolean | null | undefined | Child[];
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element with attributes (`on...` ones are listeners; `true` is a bare attribute, false/null/undefined none). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else if (child !== null && child !== undefined && child !== false) parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`The page has no #${id}.`);
  return element as T;
}

/** A date the API sent, for people: local time, with the exact value in `<time datetime>`. */
export function when(value: unknown): Node {
  if (typeof value !== "string" || value === "") return document.createTextNode("—");
  const date = new Date(value);
  return h("time", { datetime: value }, Number.isNaN(date.getTime()) ? value : date.toLocaleString());
}
