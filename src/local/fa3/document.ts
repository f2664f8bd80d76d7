/**
 * Layer (a): from bytes to a parsed FA(3) document — emptiness, encoding, well-formedness, root element,
 * namespace and form code — plus the byte-level facts rules F1/F2 judge.
 */
import { ValidationIssue } from './issues.js';
import { DocumentFacts } from './rules.js';
import { FA3_NAMESPACE, FA3_SCHEMA_VERSION, FA3_SYSTEM_CODE } from './schema.js';
import { LineIndex, XmlDocument, XmlElement, XmlSyntaxError, parseXml } from './xml.js';

const FA2_NAMESPACE = 'http://crd.gov.pl/wzor/2023/06/29/12648/';

/** F1: C1 controls except NEL, non-characters U+FDD0–FDEF and U+nFFFE/nFFFF of the supplementary planes. */
const DISCOURAGED = new RegExp(
  '[\\u007F-\\u0084\\u0086-\\u009F\\uFDD0-\\uFDEF' +
    Array.from({ length: 16 }, (_, i) => `\\u{${(i + 1).toString(16)}FFFE}\\u{${(i + 1).toString(16)}FFFF}`).join('') +
    ']',
  'u',
);

export type ReadResult =
  | { ok: true; document: XmlDocument; facts: DocumentFacts }
  | { ok: false; issues: ValidationIssue[] };

const fatal = (code: string, message: string, line?: number): ReadResult => ({
  ok: false,
  issues: [{ path: '/', message, code, ...(line !== undefined ? { line } : {}) }],
});

/** Decodes and parses the bytes; fails when they are not a well-formed UTF-8 XML document. */
export function readDocument(xml: Buffer): ReadResult {
  if (xml.length === 0 || /^[ \t\r\n]*$/.test(xml.toString('latin1'))) {
    return fatal('EMPTY', 'The body is empty: expected an FA(3) invoice as XML');
  }
  if ((xml[0] === 0xfe && xml[1] === 0xff) || (xml[0] === 0xff && xml[1] === 0xfe)) {
    return fatal('ENCODING', 'The document is UTF-16; FA(3) invoices must be UTF-8');
  }
  const bom = xml[0] === 0xef && xml[1] === 0xbb && xml[2] === 0xbf;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bom ? xml.subarray(3) : xml);
  } catch {
    return fatal('ENCODING', 'The document is not valid UTF-8');
  }
  if (!text.trimStart().startsWith('<')) {
    return fatal('XML', "The body is not XML (it does not start with '<'): expected an FA(3) invoice", 1);
  }
  let document: XmlDocument;
  try {
    document = parseXml(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) return fatal('XML', `Not well-formed XML: ${e.message}`, e.line);
    throw e;
  }
  const discouraged = DISCOURAGED.exec(text);
  const facts: DocumentFacts = {
    size: xml.length,
    bom,
    declaredEncoding: document.declaration?.encoding,
    xmlVersion: document.declaration?.version,
    processingInstructions: document.processingInstructions,
    discouragedCharacter: discouraged
      ? { codePoint: discouraged[0].codePointAt(0)!, line: new LineIndex(text).locate(discouraged.index).line }
      : undefined,
  };
  return { ok: true, document, facts };
}

/** Root element, namespace and form code: is this an FA(3) invoice at all? */
export function checkIdentity(root: XmlElement): ValidationIssue[] {
  if (root.local !== 'Faktura' || root.ns !== FA3_NAMESPACE) {
    const found = root.ns ? `{${root.ns}}${root.local}` : `${root.local} without a namespace`;
    const message =
      root.ns === FA2_NAMESPACE
        ? `This is an FA(2) invoice (namespace ${FA2_NAMESPACE}); only FA(3) is accepted`
        : `The root element must be Faktura in the FA(3) namespace ${FA3_NAMESPACE}; found ${found}`;
    return [{ path: `/${root.local}`, message, code: 'NAMESPACE', line: root.line }];
  }
  const header = root.children.find((c) => c.local === 'Naglowek' && c.ns === FA3_NAMESPACE);
  const formCode = header?.children.find((c) => c.local === 'KodFormularza' && c.ns === FA3_NAMESPACE);
  if (!formCode) return [];
  const issues: ValidationIssue[] = [];
  for (const [name, expected] of [
    ['kodSystemowy', FA3_SYSTEM_CODE],
    ['wersjaSchemy', FA3_SCHEMA_VERSION],
  ] as const) {
    const value = formCode.attributes.find((a) => a.local === name && a.ns === null)?.value;
    if (value !== undefined && value !== expected) {
      issues.push({
        path: `/Faktura/Naglowek/KodFormularza/@${name}`,
        message: `KodFormularza ${name} is '${value}'; FA(3) requires '${expected}'`,
        code: 'FORM_CODE',
        line: formCode.line,
      });
    }
  }
  return issues;
}
