/**
 * The plain element tree every reader of XML in the product works on: built once from libxml2's DOM
 * (see parse.ts) so that callers walk ordinary objects, not WASM handles they would have to dispose.
 */

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

export interface XmlAttribute {
  local: string;
  /** Namespace URI; null for unprefixed attributes. */
  ns: string | null;
  /** Value after attribute-value normalisation and reference expansion. */
  value: string;
}

export interface XmlElement {
  local: string;
  ns: string | null;
  /** Attributes other than namespace declarations. */
  attributes: XmlAttribute[];
  children: XmlElement[];
  /** Character data directly inside the element (references and CDATA resolved, comments and PIs skipped). */
  text: string;
  line: number;
  parent: XmlElement | null;
}

export interface XmlDeclaration {
  version: string;
  encoding?: string;
}

export interface XmlDocument {
  root: XmlElement;
  declaration: XmlDeclaration | null;
  /** Processing instructions other than the XML declaration (FA3.md §6 F1 forbids them). */
  processingInstructions: { target: string; line: number }[];
}

export class XmlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'XmlSyntaxError';
  }
}

/** Child elements with a given local name and namespace (any namespace when `ns` is undefined). */
export const childrenNamed = (el: XmlElement | undefined, local: string, ns?: string | null): XmlElement[] =>
  el ? el.children.filter((c) => c.local === local && (ns === undefined || c.ns === ns)) : [];

export const childNamed = (el: XmlElement | undefined, local: string, ns?: string | null): XmlElement | undefined =>
  el?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));

export const attributeValue = (el: XmlElement, local: string): string | undefined =>
  el.attributes.find((a) => a.local === local && a.ns === null)?.value;

/**
 * XPath-like location of an element: local names from the root, with a 1-based position when the parent holds
 * more than one element of that name (`/Faktura/Fa/FaWiersz[2]/P_11`).
 */
export function elementPath(el: XmlElement): string {
  const steps: string[] = [];
  for (let e: XmlElement | null = el; e; e = e.parent) {
    const siblings = e.parent ? e.parent.children.filter((c) => c.local === e!.local && c.ns === e!.ns) : [e];
    steps.push(siblings.length > 1 ? `${e.local}[${siblings.indexOf(e) + 1}]` : e.local);
  }
  return '/' + steps.reverse().join('/');
}

/**
 * The element libxml2 names by its XPath (as in its validation errors): `/*` steps with positions for
 * unprefixed elements, `prefix:name[n]` for prefixed ones; undefined when the path leaves the tree.
 */
export function elementAtXPath(root: XmlElement, xpath: string): XmlElement | undefined {
  const steps = xpath.split('/').slice(1);
  const step = /^(?:\*|(?:[^:[\]]+:)?([^:[\]]+))(?:\[(\d+)\])?$/;
  const first = step.exec(steps[0] ?? '');
  if (!first || (first[1] !== undefined && first[1] !== root.local)) return undefined;
  let at: XmlElement | undefined = root;
  for (const s of steps.slice(1)) {
    const m = step.exec(s);
    if (!m || !at) return undefined;
    const candidates: XmlElement[] = m[1] === undefined ? at.children : at.children.filter((c) => c.local === m[1]);
    at = candidates[(m[2] ? Number(m[2]) : 1) - 1];
  }
  return at;
}
