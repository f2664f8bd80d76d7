import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A parsed XML element as fast-xml-parser gives it back with our options: namespace prefixes removed,
 * every value a string (never a number: amounts and NIPs must keep their exact digits), attributes
 * under `@_name`, and the text of an element that also has attributes under `#text`.
 */
export type XNode = { [name: string]: XValue };
export type XValue = string | XNode | XValue[];

/** Thrown for input that is not a renderable document (not XML, wrong root or namespace). */
export class RenderInputError extends Error {
  override readonly name = 'RenderInputError';
}

/**
 * Elements that may repeat anywhere in FA(3) or UPO v4-3. fast-xml-parser only makes an array when it
 * sees a second occurrence; listing them keeps "one" and "many" the same shape for the view model.
 */
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

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  // Numeric character references (&#x141; &#60;) are decoded only with htmlEntities; the HTML entity names
  // it also knows (&nbsp; …) cannot reach it, since checkReferences refuses every reference XML does not define.
  htmlEntities: true,
  isArray: (name) => REPEATABLE.has(name),
});

export interface ParsedDocument {
  rootName: string;
  rootNamespace: string | undefined;
  root: XNode;
}

/**
 * Parses an XML document into the loose tree above. Rejects what is not well-formed and any DOCTYPE
 * (KSeF documents never carry one, and entity declarations are the classic expansion attack).
 */
export function parseXmlDocument(bytes: Buffer, what: string): ParsedDocument {
  if (bytes.length === 0) throw new RenderInputError(`${what}: empty document`);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(text)) throw new RenderInputError(`${what}: DOCTYPE is not allowed`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new RenderInputError(`${what}: not well-formed XML (line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg})`);
  }
  const badReference = checkReferences(text);
  if (badReference) throw new RenderInputError(`${what}: not well-formed XML (${badReference})`);
  let tree: XNode;
  try {
    tree = parser.parse(text) as XNode;
  } catch (err) {
    // fast-xml-parser's own limits (e.g. its nesting depth) refuse the input, not our code.
    throw new RenderInputError(`${what}: ${(err as Error).message}`);
  }
  const rootName = Object.keys(tree).find((k) => !k.startsWith('?') && !k.startsWith('#'));
  if (!rootName) throw new RenderInputError(`${what}: no root element`);
  const rootValue = tree[rootName];
  const root: XNode = typeof rootValue === 'object' && !Array.isArray(rootValue) ? rootValue : {};
  return { rootName, rootNamespace: rootNamespaceOf(text, rootName), root };
}

const REFERENCE = /&(?:lt|gt|amp|quot|apos|#([0-9]+)|#x([0-9a-fA-F]+));/y;

const isXmlChar = (cp: number): boolean =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

/**
 * Without a DTD, XML defines only the five predefined entities and numeric references to XML characters;
 * anything else after `&` (`&nbsp;`, `&#0;`, `&#X41;`) makes the document not well-formed, which
 * XMLValidator lets through. CDATA, comments and processing instructions are literal text, blanked out
 * first (newlines kept, for the line number).
 */
function checkReferences(text: string): string | undefined {
  const markup = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g, (literal) => literal.replace(/[^\n]/g, ' '));
  for (let at = markup.indexOf('&'); at >= 0; at = markup.indexOf('&', at + 1)) {
    REFERENCE.lastIndex = at;
    const m = REFERENCE.exec(markup);
    const codePoint = m?.[1] !== undefined ? Number(m[1]) : m?.[2] !== undefined ? parseInt(m[2], 16) : undefined;
    if (!m || (codePoint !== undefined && !isXmlChar(codePoint))) {
      const line = markup.slice(0, at).split('\n').length;
      const reference = /^&[^\s&<;]{0,16};?/.exec(markup.slice(at))?.[0] ?? '&';
      return `line ${line}: ${reference} is not a reference XML defines`;
    }
  }
  return undefined;
}

/** The namespace of the root element, read from its start tag (fast-xml-parser drops xmlns when removing prefixes). */
function rootNamespaceOf(text: string, localName: string): string | undefined {
  const start = new RegExp(`<(?:([A-Za-z_][\\w.-]*):)?${localName}[\\s>/]`).exec(text);
  if (!start) return undefined;
  const tagEnd = text.indexOf('>', start.index);
  const tag = text.slice(start.index, tagEnd < 0 ? undefined : tagEnd);
  const attr = start[1] ? `xmlns:${start[1]}` : 'xmlns';
  const m = new RegExp(`\\s${attr}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return m ? (m[1] ?? m[2]) : undefined;
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
