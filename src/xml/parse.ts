/**
 * XML parsing through libxml2 (WebAssembly), the one XML parser of the product. Network access and
 * external entities are off, and a document type declaration is refused outright: an invoice or a KSeF
 * document never needs one, and refusing it closes XXE and entity-expansion attacks at the door.
 */
import {
  ParseOption,
  XmlCData,
  XmlDocument as LibxmlDocument,
  XmlElement as LibxmlElement,
  XmlLibError,
  XmlNode,
  XmlText,
  XmlTreeNode,
} from 'libxml2-wasm';
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

function toTree(native: LibxmlDocument, input: Uint8Array | string): XmlDocument {
  // By XPath: libxml2-wasm's processing-instruction nodes have neither sibling links nor a name getter.
  const processingInstructions = (native.find('//processing-instruction()') as XmlNode[]).map((pi, i) => ({
    target: String(native.eval(`name((//processing-instruction())[${i + 1}])`)),
    line: pi.line,
  }));
  const head = (typeof input === 'string' ? input.slice(0, 200) : Buffer.from(input.subarray(0, 200)).toString('latin1')).replace(/^\uFEFF|^\xEF\xBB\xBF/, '');
  const declared = DECLARATION.exec(head);
  return {
    root: toElement(native.root, null),
    declaration: declared ? { version: declared[1], ...(declared[2] !== undefined ? { encoding: declared[2] } : {}) } : null,
    processingInstructions,
  };
}

/** The child nodes of an element; through XPath when a processing instruction breaks the sibling chain. */
function childNodes(native: LibxmlElement): XmlNode[] {
  const nodes: XmlNode[] = [];
  for (let child: XmlNode | null = native.firstChild; child; child = (child as XmlTreeNode).next) {
    if (!(child instanceof XmlTreeNode)) return native.find('node()');
    nodes.push(child);
  }
  return nodes;
}

function toElement(native: LibxmlElement, parent: XmlElement | null): XmlElement {
  const element: XmlElement = {
    local: native.name,
    ns: native.namespaceUri || null,
    attributes: native.attrs.map((a): XmlAttribute => ({ local: a.name, ns: a.namespaceUri || null, value: a.value })),
    children: [],
    text: '',
    line: native.line,
    parent,
  };
  let text = '';
  for (const child of childNodes(native)) {
    if (child instanceof LibxmlElement) element.children.push(toElement(child, element));
    else if (child instanceof XmlText || child instanceof XmlCData) text += child.content;
  }
  element.text = text;
  return element;
}
