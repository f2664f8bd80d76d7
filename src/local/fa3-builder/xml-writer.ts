/**
 * A minimal XML writer: elements with text or children, written with two-space indentation, text escaped.
 * Absent values (undefined) and empty groups are left out, so sections read as the schema's sequences.
 */

export interface XmlElement {
  name: string;
  attributes?: readonly (readonly [string, string])[];
  text?: string;
  children?: XmlElement[];
}

type Child = XmlElement | undefined | false | readonly Child[];

const flatten = (children: readonly Child[]): XmlElement[] =>
  children.flatMap((c) => (Array.isArray(c) ? flatten(c) : c ? [c as XmlElement] : []));

/** An element with child elements; undefined when every child is absent (an optional group left out). */
export function group(name: string, ...children: Child[]): XmlElement | undefined {
  const list = flatten(children);
  return list.length > 0 ? { name, children: list } : undefined;
}

/** Like `group`, for elements the schema requires even when their content is absent. */
export const element = (name: string, ...children: Child[]): XmlElement => ({ name, children: flatten(children) });

/** An element with text; undefined when the value is absent. */
export function leaf(name: string, value: string | number | undefined): XmlElement | undefined {
  return value === undefined ? undefined : { name, text: String(value) };
}

/** `etd:TWybor1` flags: present with 1 when true, absent otherwise. */
export const flag = (name: string, on: boolean | undefined): XmlElement | undefined => (on ? leaf(name, 1) : undefined);

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const escapeAttribute = (s: string) => escapeText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#xA;').replace(/\t/g, '&#x9;');

function write(e: XmlElement, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth);
  const attributes = (e.attributes ?? []).map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`).join('');
  if (e.text !== undefined) {
    out.push(`${indent}<${e.name}${attributes}>${escapeText(e.text)}</${e.name}>`);
  } else if (!e.children || e.children.length === 0) {
    out.push(`${indent}<${e.name}${attributes}/>`);
  } else {
    out.push(`${indent}<${e.name}${attributes}>`);
    for (const c of e.children) write(c, depth + 1, out);
    out.push(`${indent}</${e.name}>`);
  }
}

/** The document as UTF-8 bytes: XML declaration, LF line ends, final newline, no BOM (FA3.md §6 F1). */
export function serialize(root: XmlElement): Buffer {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(root, 0, out);
  return Buffer.from(out.join('\n') + '\n', 'utf8');
}
