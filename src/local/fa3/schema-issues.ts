/**
 * libxml2's XSD complaints in the validator's terms: the element path of our tree (`/Faktura/Fa/P_2[2]`),
 * a code telling the kind of problem, and the message without namespace URIs.
 */
import type { ErrorDetail } from 'libxml2-wasm';
import { elementAtXPath, elementPath, type XmlElement } from '../../xml/tree.js';
import type { ValidationIssue } from './issues.js';

/** The Ministry's namespaces go unsaid; any other stays, since a foreign namespace is then the problem. */
const NAMESPACE_URI = /\{http:\/\/crd\.gov\.pl\/[^}]*\}/g;

function codeOf(message: string): string {
  if (/Missing child element/.test(message)) return 'SCHEMA_MISSING';
  if (/This element is not expected/.test(message)) return 'SCHEMA_UNEXPECTED';
  if (/, attribute '|The attribute '/.test(message)) return 'SCHEMA_ATTRIBUTE';
  if (/Character content|content type is|is not allowed because/.test(message)) return 'SCHEMA_CONTENT';
  return 'SCHEMA_VALUE';
}

export function schemaIssue(detail: ErrorDetail, root: XmlElement): ValidationIssue {
  const message = detail.message.replace(NAMESPACE_URI, '').replace(/\s+$/, '');
  const code = codeOf(message);
  const element = detail.xpath ? elementAtXPath(root, detail.xpath) : undefined;
  let path = element ? elementPath(element) : '/';
  const attribute = /attribute '([^']+)'/.exec(message);
  if (element && code === 'SCHEMA_ATTRIBUTE' && attribute) path += `/@${attribute[1]}`;
  // "Missing child element(s). Expected is ( X )": the one missing element names the place.
  const missing = /Missing child element\(s\)\. Expected is \( ([^ ,()]+) \)/.exec(message);
  if (element && missing) path += `/${missing[1]}`;
  return { path, message, code, ...(detail.line > 0 ? { line: detail.line } : {}) };
}
