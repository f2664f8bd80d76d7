import { parseXml } from '../../xml/parse.js';
import { XmlSyntaxError, type XmlElement } from '../../xml/tree.js';

/**
 * The loose tree the view models read: elements by local name, every value a string (amounts and NIPs
 * keep their exact digits), attributes under `@_name`, the text of an element that also has attributes
 * or children under `#text`, trimmed; a name in REPEATABLE is always an array.
 */
export type XNode = { [name: string]: XValue };
export type XValue = string | XNode | XValue[];

/** Thrown for input that is not a renderable document (not XML, wrong root or namespace). */
export class RenderInputError extends Error {
  override readonly name = 'RenderInputError';
}

/** Elements that may repeat anywhere in FA(3) or UPO v4-3: "one" and "many" get the same shape. */
const REPEATABLE = new Set([
  // FA(3)
  'WZ', 'DaneKontaktowe', 'Podmiot3', 'DaneFaKorygowanej', 'Podmiot2K', 'ZaliczkaCzesciowa', 'DodatkowyOpis',
  'FakturaZaliczkowa', 'FaWiersz', 'Obciazenia', 'Odliczenia', 'ZaplataCzesciowa', 'TerminPlatnosci',
  'RachunekBankowy', 'RachunekBankowyFaktora', 'Umowy', 'Zamowienia', 'NrPartiiTowaru', 'Transport',
  'WysylkaPrzez', 'ZamowienieWiersz', 'Informacje', 'Rejestry', 'NowySrodekTransportu', 'BlokDanych',
  'MetaDane', 'Akapit', 'Tabela', 'TMetaDane', 'Kol', 'Wiersz', 'WKom', 'SKom',
  // UPO v4-3
  'Dokument',
]);

export interface ParsedDocument {
  rootName: string;
  rootNamespace: string | undefined;
  root: XNode;
}

/** Parses an XML document (libxml2; DOCTYPE refused) into the loose tree above. */
export function parseXmlDocument(bytes: Buffer, what: string): ParsedDocument {
  if (bytes.length === 0) throw new RenderInputError(`${what}: empty document`);
  let root: XmlElement;
  try {
    root = parseXml(bytes).root;
  } catch (err) {
    if (err instanceof XmlSyntaxError) {
      const reason = /DOCTYPE/.test(err.reason) ? 'DOCTYPE is not allowed' : `not well-formed XML (${err.message})`;
      throw new RenderInputError(`${what}: ${reason}`);
    }
    throw err;
  }
  const value = toValue(root);
  return { rootName: root.local, rootNamespace: root.ns ?? undefined, root: typeof value === 'object' && !Array.isArray(value) ? value : {} };
}

function toValue(el: XmlElement): XValue {
  const text = el.text.trim();
  if (el.attributes.length === 0 && el.children.length === 0) return text;
  const node: XNode = {};
  for (const a of el.attributes) node[`@_${a.local}`] = a.value;
  for (const c of el.children) {
    const value = toValue(c);
    const existing = node[c.local];
    if (existing === undefined) node[c.local] = REPEATABLE.has(c.local) ? [value] : value;
    else if (Array.isArray(existing)) existing.push(value);
    else node[c.local] = [existing, value];
  }
  if (text !== '') node['#text'] = text;
  return node;
}

/** The child element `name` when it is an element (first one if repeated). */
export function child(n: XNode | undefined, name: string): XNode | undefined {
  const v = n?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first !== undefined && typeof first === 'object' && !Array.isArray(first) ? first : undefined;
}

/** All child elements `name` (repeatable or not), as elements. */
export function children(n: XNode | undefined, name: string): XNode[] {
  const v = n?.[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((item) => (typeof item === 'object' && !Array.isArray(item) ? item : { '#text': item as string }));
}

/** The text of child `name` (first if repeated); undefined when absent or blank. */
export function text(n: XNode | undefined, name: string): string | undefined {
  const v = n?.[name];
  return textOf(Array.isArray(v) ? v[0] : v);
}

/** The texts of every child `name`, blanks dropped. */
export function texts(n: XNode | undefined, name: string): string[] {
  const v = n?.[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(textOf).filter((s): s is string => s !== undefined);
}

export function attr(n: XNode | undefined, name: string): string | undefined {
  return textOf(n?.[`@_${name}`]);
}

function textOf(v: XValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (Array.isArray(v)) return undefined;
  const t = v['#text'];
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/** Child elements flattened to their texts: the generic row shape the data-driven tables use. */
export function flatRow(n: XNode): Record<string, string | undefined> {
  const row: Record<string, string | undefined> = {};
  for (const key of Object.keys(n)) {
    if (key.startsWith('@_') || key === '#text') continue;
    row[key] = text(n, key);
  }
  return row;
}

/** True when the flag element holds `1` (TWybor1 / TWybor1_2 "yes"). */
export function flag(n: XNode | undefined, name: string): boolean {
  return text(n, name) === '1';
}
