/**
 * XML parsing through libxml2 (WebAssembly), the one XML parser of the product. Network access and
 * external entities are off, and a document type declaration is refused outright: an invoice or a KSeF
 * document never needs one, and refusing it closes XXE and entity-expansion attacks at the door.
 */
import { ParseOption, XmlDocument as LibxmlDocument, XmlLibError } from 'libxml2-wasm';
import { XmlAttrStruct, XmlNodeStruct, XmlNodeType, XmlNsStruct, xmlNodeGetContent } from 'libxml2-wasm/lib/libxml2.mjs';
import { XmlSyntaxError, type XmlAttribute, type XmlDocument, type XmlElement } from './tree.js';

const SAFE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES;
/** libxml2 refuses deeper documents itself (at 256 without XML_PARSE_HUGE); no invoice comes close. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const DECLARATION = /^<\?xml\s+version\s*=\s*["']([^"']*)["'](?:\s+encoding\s*=\s*["']([^"']*)["'])?/;

export { LibxmlDocument };

/**
 * Parses `input` with libxml2 and hands `use` both libxml2's document (for schema validation) and our
 * plain tree; libxml2's memory is freed when `use` returns. Throws XmlSyntaxError when the input is not
 * well-formed, namespace-well-formed XML, or declares a document type.
 */
export function withParsedXml<T>(input: Uint8Array | string, use: (tree: XmlDocument, native: LibxmlDocument) => T): T {
  if (typeof input === 'string' && LONE_SURROGATE.test(input)) throw new XmlSyntaxError('the text holds a lone surrogate, not a character', 1, 1);
  let native: LibxmlDocument;
  try {
    native = typeof input === 'string' ? LibxmlDocument.fromString(input, { option: SAFE_OPTIONS }) : LibxmlDocument.fromBuffer(input, { option: SAFE_OPTIONS });
  } catch (err) {
    if (err instanceof XmlLibError) {
      const first = err.details[0];
      throw new XmlSyntaxError((first?.message ?? err.message).trim(), first?.line ?? 1, first?.col ?? 1);
    }
    throw err;
  }
  try {
    if (native.dtd) throw new XmlSyntaxError('a DOCTYPE (document type declaration) is not allowed', 1, 1);
    return use(toTree(native, input), native);
  } finally {
    native.dispose();
  }
}

/** Parses `input` into the plain tree (see withParsedXml). */
export function parseXml(input: Uint8Array | string): XmlDocument {
  return withParsedXml(input, (tree) => tree);
}

/**
 * The tree is read through libxml2-wasm's struct accessors on raw pointers rather than its node objects:
 * one wrapper object per node visited made building the tree cost more than parsing and validating together
 * (0.8 ms of 1.1 ms for fa3-vat.xml). These accessors are internal to libxml2-wasm, hence its exact version
 * in package.json.
 */
function toTree(native: LibxmlDocument, input: Uint8Array | string): XmlDocument {
  const rootPtr = (native.root as unknown as { _nodePtr: number })._nodePtr;
  const namespaces = new Map<number, string | null>();
  const processingInstructions: XmlDocument['processingInstructions'] = [];
  const nsOf = (ptr: number): string | null => {
    const ns = XmlNodeStruct.namespace(ptr);
    if (!ns) return null;
    let href = namespaces.get(ns);
    if (href === undefined) namespaces.set(ns, (href = XmlNsStruct.href(ns) || null));
    return href;
  };
  const toElement = (ptr: number, parent: XmlElement | null): XmlElement => {
    const attributes: XmlAttribute[] = [];
    for (let a = XmlNodeStruct.properties(ptr); a; a = XmlAttrStruct.next(a)) {
      attributes.push({ local: XmlAttrStruct.name_(a), ns: nsOf(a), value: xmlNodeGetContent(a) });
    }
    const element: XmlElement = { local: XmlNodeStruct.name_(ptr), ns: nsOf(ptr), attributes, children: [], text: '', line: XmlNodeStruct.line(ptr), parent };
    let text = '';
    for (let c = XmlNodeStruct.children(ptr); c; c = XmlNodeStruct.next(c)) {
      const type = XmlNodeStruct.type(c);
      if (type === XmlNodeType.XML_ELEMENT_NODE) element.children.push(toElement(c, element));
      else if (type === XmlNodeType.XML_TEXT_NODE || type === XmlNodeType.XML_CDATA_SECTION_NODE) text += xmlNodeGetContent(c);
      else if (type === XmlNodeType.XML_PI_NODE) processingInstructions.push({ target: XmlNodeStruct.name_(c), line: XmlNodeStruct.line(c) });
    }
    element.text = text;
    return element;
  };
  let root: XmlElement | undefined;
  for (let n = XmlNodeStruct.children(XmlNodeStruct.doc(rootPtr)); n; n = XmlNodeStruct.next(n)) {
    if (n === rootPtr) root = toElement(n, null);
    else if (XmlNodeStruct.type(n) === XmlNodeType.XML_PI_NODE) processingInstructions.push({ target: XmlNodeStruct.name_(n), line: XmlNodeStruct.line(n) });
  }
  processingInstructions.sort((x, y) => x.line - y.line);
  const head = (typeof input === 'string' ? input.slice(0, 200) : Buffer.from(input.subarray(0, 200)).toString('latin1')).replace(/^\uFEFF|^\xEF\xBB\xBF/, '');
  const declared = DECLARATION.exec(head);
  return {
    root: root!,
    declaration: declared ? { version: declared[1], ...(declared[2] !== undefined ? { encoding: declared[2] } : {}) } : null,
    processingInstructions,
  };
}
