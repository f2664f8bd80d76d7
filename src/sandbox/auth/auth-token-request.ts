import { isUtf8 } from 'node:buffer';
import { KsefError } from '../http/errors.js';
import { ContextIdentifier, CONTEXT_TYPES } from '../model.js';
import { parseXml } from '../../xml/parse.js';
import { XmlElement, XmlSyntaxError } from '../../xml/tree.js';
import { CHALLENGE, CONTEXT_VALUE, IP4, IP4_MASK, IP4_RANGE } from './identifiers.js';

/**
 * Reading a signed `AuthTokenRequest` (`POST /auth/xades-signature`): UTF-8, well-formed, exactly one
 * signature, and the document without it as the auth XSD describes it. The Ministry's XSD cannot ship with
 * the sandbox, so its rules are checked here (the tests hold them against the XSD itself); namespace 2.0
 * gets 2.1's patterns, since libxml2 cannot even compile 2.0's (`^ $ \b` in its IP patterns).
 */

export const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
export const AUTH_NAMESPACES = ['http://ksef.mf.gov.pl/auth/token/2.0', 'http://ksef.mf.gov.pl/auth/token/2.1'];

export const REQUESTED_SUBJECT_TYPES = ['certificateSubject', 'certificateFingerprint'] as const;
export type RequestedSubject = (typeof REQUESTED_SUBJECT_TYPES)[number];

export interface AuthTokenRequest {
  /** The document exactly as received (its hash goes into the UPO). */
  bytes: Buffer;
  text: string;
  root: XmlElement;
  signature: XmlElement;
  challenge: string;
  context: ContextIdentifier;
  subjectIdentifierType: RequestedSubject;
  allowedIps?: { addresses: string[]; ranges: string[]; masks: string[] };
}

export const signatureError = (details: string[]) => new KsefError(9105, 'Nieprawidłowy podpis.', details);
const invalidDocument = (detail: string) => new KsefError(9101, 'Nieprawidłowy dokument.', [detail]);
const schemaError = (details: string[]) => new KsefError(21401, 'Dokument nie jest zgodny ze schemą (xsd).', details);

const DECLARED_ENCODING = /^\uFEFF?<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/;

export function descendants(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(descendants)];
}

/** xsd:token's whitespace collapsing (the string-typed NIP and InternalId keep theirs). */
const collapse = (text: string) => text.replace(/[\t\n\r ]+/g, ' ').trim();

/** The XSD's rules over the document without its signature; every violation, each naming its element. */
function schemaViolations(root: XmlElement, signature: XmlElement): string[] {
  const problems: string[] = [];
  const ns = root.ns ?? '';
  const path = (...names: string[]) => ['AuthTokenRequest', ...names].join('/');
  const elements = (el: XmlElement) => el.children.filter((c) => c !== signature);
  const noText = (el: XmlElement, where: string) => {
    if (el.text.trim()) problems.push(`${where}: element nie może zawierać tekstu`);
  };
  const noAttributes = (el: XmlElement, where: string) => {
    for (const a of el.attributes) if (a.ns !== 'http://www.w3.org/2001/XMLSchema-instance') problems.push(`${where}: nieoczekiwany atrybut ${a.local}`);
  };
  /** The element's children must be these names, in this order, each within its count. */
  const sequence = (el: XmlElement, where: string, expected: Array<[string, number, number]>): Map<string, XmlElement[]> => {
    noText(el, where);
    noAttributes(el, where);
    const found = new Map<string, XmlElement[]>(expected.map(([name]) => [name, []]));
    let position = 0;
    for (const child of elements(el)) {
      if (child.ns !== ns) {
        problems.push(`${where}: nieoczekiwany element ${child.local} (przestrzeń nazw ${child.ns ?? 'brak'})`);
        continue;
      }
      const index = expected.findIndex(([name], i) => i >= position && name === child.local);
      if (index < 0) {
        problems.push(`${where}: element ${child.local} nie jest tu oczekiwany`);
        continue;
      }
      position = index;
      found.get(child.local)!.push(child);
    }
    for (const [name, min, max] of expected) {
      const count = found.get(name)!.length;
      if (count < min) problems.push(`${where}: brak elementu ${name}`);
      if (count > max) problems.push(`${where}: element ${name} może wystąpić najwyżej ${max} razy`);
    }
    return found;
  };
  const simple = (el: XmlElement, where: string, valid: (value: string) => boolean) => {
    noAttributes(el, where);
    if (elements(el).length) problems.push(`${where}: element nie może zawierać elementów`);
    else if (!valid(el.text)) problems.push(`${where}: nieprawidłowa wartość "${el.text}"`);
  };

  const top = sequence(root, path(), [
    ['Challenge', 1, 1],
    ['ContextIdentifier', 1, 1],
    ['SubjectIdentifierType', 1, 1],
    ['AuthorizationPolicy', 0, 1],
  ]);
  for (const el of top.get('Challenge')!) simple(el, path('Challenge'), (v) => CHALLENGE.test(collapse(v)));
  for (const el of top.get('SubjectIdentifierType')!) {
    simple(el, path('SubjectIdentifierType'), (v) => (REQUESTED_SUBJECT_TYPES as readonly string[]).includes(collapse(v)));
  }
  for (const el of top.get('ContextIdentifier')!) {
    const where = path('ContextIdentifier');
    noText(el, where);
    noAttributes(el, where);
    const choice = elements(el);
    if (choice.length !== 1) problems.push(`${where}: oczekiwany dokładnie jeden z elementów ${CONTEXT_TYPES.join(', ')}`);
    for (const c of choice) {
      const type = CONTEXT_TYPES.find((t) => t === c.local);
      if (c.ns !== ns || !type) problems.push(`${where}: element ${c.local} nie jest tu oczekiwany`);
      else simple(c, path('ContextIdentifier', type), (v) => CONTEXT_VALUE[type].test(v));
    }
  }
  for (const policy of top.get('AuthorizationPolicy')!) {
    const allowed = sequence(policy, path('AuthorizationPolicy'), [['AllowedIps', 1, 1]]).get('AllowedIps')!;
    for (const ips of allowed) {
      const lists = sequence(ips, path('AuthorizationPolicy', 'AllowedIps'), [
        ['Ip4Address', 0, 10],
        ['Ip4Range', 0, 10],
        ['Ip4Mask', 0, 10],
      ]);
      const patterns = { Ip4Address: IP4, Ip4Range: IP4_RANGE, Ip4Mask: IP4_MASK };
      for (const [name, pattern] of Object.entries(patterns)) {
        for (const el of lists.get(name)!) simple(el, path('AuthorizationPolicy', 'AllowedIps', name), (v) => pattern.test(collapse(v)));
      }
    }
  }
  return problems;
}

const child = (el: XmlElement, local: string) => el.children.find((c) => c.local === local && c.ns === el.ns);

/**
 * The request, or the 400 KSeF answers (PERMISSIONS.md §4.4–4.5): 21001 empty, 21217 not UTF-8, 9101 not
 * a document, 9102/9103 no or several signatures, 21401 against the schema.
 */
export function readAuthTokenRequest(body: unknown): AuthTokenRequest {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new KsefError(21001, 'Nieczytelna treść.', ['Oczekiwano dokumentu XML (Content-Type: application/xml).']);
  }
  const declared = DECLARED_ENCODING.exec(body.subarray(0, 200).toString('latin1'))?.[1];
  if (!isUtf8(body) || (declared !== undefined && !/^utf-8$/i.test(declared))) {
    throw new KsefError(21217, 'Nieprawidłowe kodowanie znaków.', ['Dokument musi być zapisany w UTF-8.']);
  }
  let root: XmlElement;
  try {
    root = parseXml(body).root;
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw invalidDocument(`Nieprawidłowy XML: ${err.message}.`);
    throw err;
  }
  const signatures = descendants(root).filter((e) => e.local === 'Signature' && e.ns === XMLDSIG);
  if (signatures.length === 0) throw new KsefError(9102, 'Brak podpisu.');
  if (signatures.length > 1) throw new KsefError(9103, 'Przekroczona liczba dozwolonych podpisów.', [`Dokument zawiera ${signatures.length} podpisy.`]);
  const [signature] = signatures;
  if (signature === root) throw invalidDocument('Sandbox przyjmuje tylko podpis otaczany (enveloped): ds:Signature jako element AuthTokenRequest.');
  if (signature.parent !== root) throw invalidDocument('Podpis otaczany (enveloped) musi być elementem potomnym AuthTokenRequest.');
  if (root.local !== 'AuthTokenRequest' || !AUTH_NAMESPACES.includes(root.ns ?? '')) {
    throw schemaError([`Element główny {${root.ns ?? ''}}${root.local} nie jest AuthTokenRequest w przestrzeni nazw ${AUTH_NAMESPACES.join(' ani ')}.`]);
  }
  const problems = schemaViolations(root, signature);
  if (problems.length) throw schemaError(problems);

  const contextElement = child(root, 'ContextIdentifier')!.children.find((c) => c !== signature)!;
  const policy = child(root, 'AuthorizationPolicy');
  const ips = policy && child(policy, 'AllowedIps')!;
  const texts = (name: string) => (ips ? ips.children.filter((c) => c.local === name).map((c) => collapse(c.text)) : []);
  return {
    bytes: body,
    text: body.toString('utf8'),
    root,
    signature,
    challenge: collapse(child(root, 'Challenge')!.text),
    context: { type: contextElement.local as ContextIdentifier['type'], value: contextElement.text },
    subjectIdentifierType: collapse(child(root, 'SubjectIdentifierType')!.text) as RequestedSubject,
    allowedIps: ips ? { addresses: texts('Ip4Address'), ranges: texts('Ip4Range'), masks: texts('Ip4Mask') } : undefined,
  };
}
