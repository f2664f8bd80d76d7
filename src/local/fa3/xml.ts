/**
 * A small, strict, namespace-aware XML 1.0 parser producing an element tree with line numbers.
 *
 * Why our own: the validator needs exact well-formedness (with positions), namespace resolution, element
 * order, and line numbers to map xmllint's messages back to element paths; none of which the installed
 * fast-xml-parser offers. Document type declarations are refused outright (no entity expansion, no XXE):
 * an invoice never needs one.
 */

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

export interface XmlAttribute {
  qname: string;
  local: string;
  /** Namespace URI; null for unprefixed attributes. */
  ns: string | null;
  /** Value after attribute-value normalisation and reference expansion. */
  value: string;
}

export interface XmlElement {
  qname: string;
  local: string;
  ns: string | null;
  /** Attributes other than namespace declarations. */
  attributes: XmlAttribute[];
  children: XmlElement[];
  /** Character data directly inside the element (references and CDATA resolved, comments and PIs skipped). */
  text: string;
  line: number;
  column: number;
  parent: XmlElement | null;
}

export interface XmlDeclaration {
  version: string;
  encoding?: string;
  standalone?: string;
}

export interface XmlDocument {
  root: XmlElement;
  declaration: XmlDeclaration | null;
  /** Processing instructions other than the XML declaration (FA3.md §6 F1 forbids them). */
  processingInstructions: { target: string; line: number }[];
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
    this.name = 'XmlSyntaxError';
  }
}

const MAX_DEPTH = 256;

const NAME_START =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'uy');
const INVALID_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const MARKUP = /[<&]/g;
const PREDEFINED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Line and column (both 1-based) of string offsets. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  locate(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

/** Parses a decoded document. Throws XmlSyntaxError when it is not well-formed or not namespace-well-formed. */
export function parseXml(input: string): XmlDocument {
  return new Parser(input.replace(/\r\n?/g, '\n')).document();
}

interface Scope {
  element: XmlElement;
  namespaces: Map<string, string>;
}

class Parser {
  private pos = 0;
  private readonly lines: LineIndex;
  private readonly pis: { target: string; line: number }[] = [];

  constructor(private readonly s: string) {
    this.lines = new LineIndex(s);
  }

  document(): XmlDocument {
    const bad = INVALID_CHAR.exec(this.s);
    if (bad) {
      const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      this.fail(`character U+${cp} is not allowed in XML 1.0`, bad.index);
    }
    const declaration = this.declaration();
    this.misc();
    if (this.s.startsWith('<!DOCTYPE', this.pos)) this.fail('a document type declaration (DOCTYPE) is not allowed');
    if (this.s[this.pos] !== '<') {
      this.fail(this.pos >= this.s.length ? 'no root element' : 'expected the root element');
    }
    const root = this.content();
    this.misc();
    if (this.pos < this.s.length) this.fail('content after the root element');
    return { root, declaration, processingInstructions: this.pis };
  }

  private fail(message: string, at = this.pos): never {
    const { line, column } = this.lines.locate(Math.min(at, this.s.length));
    throw new XmlSyntaxError(message, line, column);
  }

  private declaration(): XmlDeclaration | null {
    if (!/^<\?xml[ \t\n?]/.test(this.s)) return null;
    const end = this.s.indexOf('?>');
    if (end === -1) this.fail('unterminated XML declaration');
    const body = this.s.slice(5, end);
    const m =
      /^[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"(1\.\d+)"|'(1\.\d+)')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"([A-Za-z][\w.-]*)"|'([A-Za-z][\w.-]*)'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(yes|no)"|'(yes|no)'))?[ \t\n]*$/.exec(
        body,
      );
    if (!m) this.fail('malformed XML declaration');
    this.pos = end + 2;
    return { version: m[1] ?? m[2], encoding: m[3] ?? m[4], standalone: m[5] ?? m[6] };
  }

  /** Whitespace, comments and processing instructions outside the root element. */
  private misc(): void {
    for (;;) {
      while (this.pos < this.s.length && ' \t\n'.includes(this.s[this.pos])) this.pos++;
      if (this.s.startsWith('<!--', this.pos)) this.comment();
      else if (this.s.startsWith('<?', this.pos)) this.pi();
      else return;
    }
  }

  private comment(): void {
    const start = this.pos;
    const end = this.s.indexOf('-->', start + 4);
    if (end === -1) this.fail('unterminated comment', start);
    const dashes = this.s.indexOf('--', start + 4);
    if (dashes < end || (end > start + 4 && this.s[end - 1] === '-')) this.fail("'--' is not allowed inside a comment", start);
    this.pos = end + 3;
  }

  private pi(): void {
    const start = this.pos;
    this.pos += 2;
    const target = this.name('processing instruction target');
    if (target.toLowerCase() === 'xml') this.fail('the XML declaration is only allowed at the very start', start);
    const end = this.s.indexOf('?>', this.pos);
    if (end === -1) this.fail('unterminated processing instruction', start);
    if (end !== this.pos && !' \t\n'.includes(this.s[this.pos])) this.fail('malformed processing instruction', start);
    this.pis.push({ target, line: this.lines.locate(start).line });
    this.pos = end + 2;
  }

  private name(what: string): string {
    // Fast path for ASCII names (all of FA(3)); the full Unicode production otherwise.
    const start = this.pos;
    let end = start;
    for (; end < this.s.length; end++) {
      const c = this.s.charCodeAt(end);
      const ascii = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
      if (!ascii && !(end > start && ((c >= 48 && c <= 57) || c === 45 || c === 46))) break;
    }
    const next = this.s.charCodeAt(end);
    if (end > start && (next < 128 || Number.isNaN(next))) {
      this.pos = end;
      return this.s.slice(start, end);
    }
    NAME.lastIndex = start;
    const m = NAME.exec(this.s);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  private skipSpace(): boolean {
    const start = this.pos;
    for (let c = this.s.charCodeAt(this.pos); c === 32 || c === 9 || c === 10; c = this.s.charCodeAt(++this.pos));
    return this.pos > start;
  }

  /** Parses the root element and everything inside it (iteratively: depth is bounded, not the JS stack). */
  private content(): XmlElement {
    const stack: Scope[] = [];
    let root: XmlElement | null = null;
    const open = (parent: Scope | null): void => {
      if (stack.length >= MAX_DEPTH) this.fail(`elements nested deeper than ${MAX_DEPTH}`);
      const { scope, selfClosing } = this.startTag(parent);
      if (parent) parent.element.children.push(scope.element);
      else root = scope.element;
      if (!selfClosing) stack.push(scope);
    };
    open(null);
    while (stack.length > 0) {
      const current = stack[stack.length - 1];
      MARKUP.lastIndex = this.pos;
      const stop = MARKUP.exec(this.s)?.index ?? this.s.length;
      if (stop > this.pos) {
        const chunk = this.s.slice(this.pos, stop);
        const cdataEnd = chunk.indexOf(']]>');
        if (cdataEnd !== -1) this.fail("']]>' is not allowed in character data", this.pos + cdataEnd);
        current.element.text += chunk;
        this.pos = stop;
      }
      if (this.pos >= this.s.length) this.fail(`element <${current.element.qname}> is not closed`);
      if (this.s[this.pos] === '&') {
        current.element.text += this.reference();
      } else if (this.s.startsWith('</', this.pos)) {
        const at = this.pos;
        this.pos += 2;
        const name = this.name('element name in end tag');
        this.skipSpace();
        if (this.s[this.pos] !== '>') this.fail('malformed end tag');
        if (name !== current.element.qname) {
          this.fail(`end tag </${name}> does not match <${current.element.qname}>`, at);
        }
        this.pos++;
        stack.pop();
      } else if (this.s.startsWith('<!--', this.pos)) {
        this.comment();
      } else if (this.s.startsWith('<![CDATA[', this.pos)) {
        const end = this.s.indexOf(']]>', this.pos + 9);
        if (end === -1) this.fail('unterminated CDATA section');
        current.element.text += this.s.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.s.startsWith('<?', this.pos)) {
        this.pi();
      } else if (this.s.startsWith('<!', this.pos)) {
        this.fail('markup declarations are not allowed here');
      } else {
        open(current);
      }
    }
    return root!;
  }

  private startTag(parent: Scope | null): { scope: Scope; selfClosing: boolean } {
    const at = this.pos;
    const { line, column } = this.lines.locate(at);
    this.pos++;
    const qname = this.name('element name');
    const raw: { qname: string; value: string; at: number }[] = [];
    let selfClosing = false;
    for (;;) {
      const spaced = this.skipSpace();
      if (this.s.startsWith('/>', this.pos)) {
        selfClosing = true;
        this.pos += 2;
        break;
      }
      if (this.s[this.pos] === '>') {
        this.pos++;
        break;
      }
      if (this.pos >= this.s.length) this.fail(`start tag <${qname}> is not closed`, at);
      if (!spaced) this.fail('expected whitespace, ">" or "/>"');
      const attrAt = this.pos;
      const name = this.name('attribute name');
      this.skipSpace();
      if (this.s[this.pos] !== '=') this.fail(`expected "=" after attribute ${name}`);
      this.pos++;
      this.skipSpace();
      const value = this.attributeValue();
      if (raw.some((a) => a.qname === name)) this.fail(`attribute ${name} is repeated`, attrAt);
      raw.push({ qname: name, value, at: attrAt });
    }

    let namespaces = parent ? parent.namespaces : new Map<string, string>([['xml', XML_NAMESPACE]]);
    for (const a of raw) {
      const declared = a.qname === 'xmlns' ? '' : a.qname.startsWith('xmlns:') ? a.qname.slice(6) : null;
      if (declared === null) continue;
      if (declared === 'xmlns') this.fail('the xmlns prefix cannot be declared', a.at);
      if (declared === 'xml' ? a.value !== XML_NAMESPACE : a.value === XML_NAMESPACE) {
        this.fail('the xml prefix and its namespace are reserved for each other', a.at);
      }
      if (a.value === XMLNS_NAMESPACE) this.fail('the xmlns namespace cannot be declared', a.at);
      if (declared !== '' && a.value === '') this.fail(`prefix ${declared} cannot be undeclared in XML 1.0`, a.at);
      if (namespaces === parent?.namespaces) namespaces = new Map(namespaces);
      namespaces.set(declared, a.value);
    }

    const name = this.qualify(qname, namespaces, true, at);
    const element: XmlElement = {
      qname,
      local: name.local,
      ns: name.ns,
      attributes: [],
      children: [],
      text: '',
      line,
      column,
      parent: parent?.element ?? null,
    };
    if (raw.length > 0) {
      const seen = new Set<string>();
      for (const a of raw) {
        if (a.qname === 'xmlns' || a.qname.startsWith('xmlns:')) continue;
        const { local, ns } = this.qualify(a.qname, namespaces, false, a.at);
        const key = `{${ns ?? ''}}${local}`;
        if (seen.has(key)) this.fail(`attribute ${a.qname} is repeated (same namespace and name)`, a.at);
        seen.add(key);
        element.attributes.push({ qname: a.qname, local, ns, value: a.value });
      }
    }
    return { scope: { element, namespaces }, selfClosing };
  }

  /** Namespace of a qualified name; unprefixed attributes have none, unprefixed elements the default one. */
  private qualify(name: string, namespaces: Map<string, string>, isElement: boolean, pos: number) {
    const colon = name.indexOf(':');
    if (colon === -1) return { local: name, ns: isElement ? namespaces.get('') || null : null };
    const prefix = name.slice(0, colon);
    const local = name.slice(colon + 1);
    if (prefix === '' || local === '' || local.includes(':')) this.fail(`${name} is not a valid qualified name`, pos);
    const ns = namespaces.get(prefix);
    if (ns === undefined) this.fail(`namespace prefix ${prefix} is not declared`, pos);
    return { local, ns };
  }

  private attributeValue(): string {
    const quote = this.s[this.pos];
    if (quote !== '"' && quote !== "'") this.fail('attribute value must be quoted');
    this.pos++;
    let value = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) this.fail('unterminated attribute value');
      if (c === quote) {
        this.pos++;
        return value;
      }
      if (c === '<') this.fail("'<' is not allowed in an attribute value");
      if (c === '&') {
        value += this.reference();
      } else {
        // Attribute-value normalisation: literal whitespace becomes a space (references keep their character).
        value += c === '\t' || c === '\n' ? ' ' : c;
        this.pos++;
      }
    }
  }

  private reference(): string {
    const at = this.pos;
    const end = this.s.indexOf(';', at);
    if (end === -1 || end - at > 12) this.fail("'&' must start a reference such as &amp;", at);
    const body = this.s.slice(at + 1, end);
    this.pos = end + 1;
    if (body.startsWith('#')) {
      const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
      if (!m) this.fail(`malformed character reference &${body};`, at);
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
      const ch = cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
      if (!ch || INVALID_CHAR.test(ch) || (cp >= 0xd800 && cp <= 0xdfff)) {
        this.fail(`character reference &${body}; is not an XML character`, at);
      }
      return ch;
    }
    const predefined = PREDEFINED_ENTITIES[body];
    if (predefined === undefined) this.fail(`entity &${body}; is not declared`, at);
    return predefined;
  }
}

/** Child elements with a given namespace and local name. */
export const childrenNamed = (el: XmlElement, ns: string, local: string) =>
  el.children.filter((c) => c.local === local && c.ns === ns);

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
