/**
 * A small, strict XML reader for invoice documents: one pass, well-formedness checked (balanced tags,
 * quoted and unique attributes, known entities, one root, nothing but comments after it), namespaces
 * resolved. DTDs and processing instructions (other than the XML declaration) are refused, as KSeF does.
 * Much faster than a general-purpose parser, which matters because every invoice goes through it.
 */

export interface XmlElement {
  /** Local name. */
  name: string;
  /** Namespace URI; undefined when none is in scope. */
  ns: string | undefined;
  /** Attributes by qualified name, values with entities expanded. */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside the element (text and CDATA, entities expanded). */
  text: string;
}

export class XmlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`${reason} (linia ${line})`);
  }
}

const NAME_START = 'A-Za-z_\\u00C0-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}0-9.\\-\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const QNAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*(?::[${NAME_START}][${NAME_CHAR}]*)?$`);
const ASCII_QNAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/;

/** Characters that end a name: whitespace, / > = < " '. */
const isNameEnd = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f || c === 0x3e || c === 0x3d || c === 0x3c || c === 0x22 || c === 0x27;
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const ENTITY = /&([^;&<\s]*);?/g;
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

const isXmlChar = (cp: number) =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

export function parseXml(src: string): XmlElement {
  let pos = 0;
  const lineAt = (at: number) => {
    let line = 1;
    for (let i = src.indexOf('\n'); i !== -1 && i < at; i = src.indexOf('\n', i + 1)) line++;
    return line;
  };
  const fail = (reason: string, at = pos): never => {
    throw new XmlSyntaxError(reason, lineAt(at));
  };

  const decode = (raw: string, at: number): string => {
    if (raw.indexOf('&') === -1) return raw;
    return raw.replace(ENTITY, (whole: string, ref: string) => {
      if (!whole.endsWith(';')) return fail(`nieprawidłowe odwołanie do encji "${whole}"`, at);
      if (ref in PREDEFINED) return PREDEFINED[ref];
      const code = /^#x[0-9a-fA-F]+$/.test(ref) ? parseInt(ref.slice(2), 16) : /^#[0-9]+$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
      if (Number.isNaN(code)) return fail(`nieznana encja "${whole}"`, at);
      if (!isXmlChar(code)) return fail(`odwołanie do niedozwolonego znaku "${whole}"`, at);
      return String.fromCodePoint(code);
    });
  };

  const skipSpace = () => {
    while (pos < src.length && isSpace(src.charCodeAt(pos))) pos++;
  };

  const name = (): string => {
    const start = pos;
    while (pos < src.length && !isNameEnd(src.charCodeAt(pos))) pos++;
    const n = src.slice(start, pos);
    if (!ASCII_QNAME.test(n) && !QNAME.test(n)) return fail(n ? `nieprawidłowa nazwa "${n}"` : 'oczekiwano nazwy elementu lub atrybutu', start);
    return n;
  };

  const comment = () => {
    const end = src.indexOf('-->', pos + 4);
    if (end === -1) fail('niezamknięty komentarz');
    if (src.slice(pos + 4, end).includes('--')) fail('"--" wewnątrz komentarza');
    pos = end + 3;
  };

  /** Whitespace and comments; PIs and DOCTYPE are refused. */
  const misc = () => {
    for (;;) {
      skipSpace();
      if (src.startsWith('<!--', pos)) comment();
      else if (src.startsWith('<?', pos)) fail('instrukcje przetwarzania są niedozwolone');
      else if (src.startsWith('<!', pos)) fail('deklaracja DOCTYPE jest niedozwolona');
      else return;
    }
  };

  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end === -1 || !/^<\?xml\s+version\s*=\s*["']1\.[0-9]["']/.test(src)) fail('nieprawidłowa deklaracja XML');
    pos = end + 2;
  }
  misc();
  if (src[pos] !== '<') fail(pos >= src.length ? 'brak elementu głównego' : 'treść przed elementem głównym');

  interface Open {
    element: XmlElement;
    qname: string;
    scope: Map<string, string>;
  }
  const stack: Open[] = [];
  let root: XmlElement | undefined;
  let scope = new Map<string, string>();

  while (!root || stack.length) {
    if (pos >= src.length) fail(`niezamknięty element <${stack[stack.length - 1]?.qname ?? ''}>`);
    if (src.charCodeAt(pos) !== 0x3c) {
      const next = src.indexOf('<', pos);
      if (next === -1) fail('niezamknięty element');
      const raw = src.slice(pos, next);
      const top = stack[stack.length - 1];
      top.element.text += decode(raw, pos);
      pos = next;
      continue;
    }
    const c1 = src.charCodeAt(pos + 1);
    if (c1 === 0x2f) {
      // </name>
      pos += 2;
      const qname = name();
      skipSpace();
      if (src[pos] !== '>') fail(`nieprawidłowy znacznik zamykający </${qname}>`);
      pos++;
      const top = stack.pop()!;
      if (top.qname !== qname) fail(`oczekiwano </${top.qname}>, otrzymano </${qname}>`);
      scope = stack.length ? stack[stack.length - 1].scope : scope;
      continue;
    }
    if (c1 === 0x21) {
      if (src.startsWith('<!--', pos)) comment();
      else if (src.startsWith('<![CDATA[', pos)) {
        const end = src.indexOf(']]>', pos + 9);
        if (end === -1) fail('niezamknięta sekcja CDATA');
        stack[stack.length - 1].element.text += src.slice(pos + 9, end);
        pos = end + 3;
      } else fail('deklaracja DOCTYPE jest niedozwolona');
      continue;
    }
    if (c1 === 0x3f) fail('instrukcje przetwarzania są niedozwolone');

    // <name attributes (/)?>
    const start = pos;
    pos++;
    const qname = name();
    const attributes: Record<string, string> = {};
    let declares: Map<string, string> | undefined;
    for (;;) {
      const before = pos;
      skipSpace();
      const ch = src[pos];
      if (ch === '>' || ch === '/') break;
      if (pos === before) fail(`oczekiwano spacji przed atrybutem w <${qname}>`);
      const attr = name();
      skipSpace();
      if (src[pos] !== '=') fail(`atrybut "${attr}" bez wartości`);
      pos++;
      skipSpace();
      const quote = src[pos];
      if (quote !== '"' && quote !== "'") fail(`wartość atrybutu "${attr}" bez cudzysłowu`);
      const end = src.indexOf(quote, pos + 1);
      if (end === -1) fail(`niezamknięta wartość atrybutu "${attr}"`);
      const raw = src.slice(pos + 1, end);
      if (raw.includes('<')) fail(`znak "<" w wartości atrybutu "${attr}"`);
      if (attr in attributes) fail(`powtórzony atrybut "${attr}"`);
      const value = decode(raw, pos).replace(/[\t\n\r]/g, ' ');
      attributes[attr] = value;
      if (attr === 'xmlns' || attr.startsWith('xmlns:')) (declares ??= new Map()).set(attr === 'xmlns' ? '' : attr.slice(6), value);
      pos = end + 1;
    }
    const selfClosing = src[pos] === '/';
    if (selfClosing && src[pos + 1] !== '>') fail(`nieprawidłowy znacznik <${qname}>`);
    pos += selfClosing ? 2 : 1;

    const elementScope = declares ? new Map([...scope, ...declares]) : scope;
    const colon = qname.indexOf(':');
    const prefix = colon === -1 ? '' : qname.slice(0, colon);
    const ns = elementScope.get(prefix) || undefined;
    if (prefix && ns === undefined) fail(`niezadeklarowany prefiks przestrzeni nazw "${prefix}"`, start);
    const element: XmlElement = { name: colon === -1 ? qname : qname.slice(colon + 1), ns, attributes, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].element.children.push(element);
    else root = element;
    if (!selfClosing) {
      stack.push({ element, qname, scope: elementScope });
      scope = elementScope;
    }
  }

  misc();
  if (pos < src.length) fail(src[pos] === '<' ? 'więcej niż jeden element główny' : 'treść po elemencie głównym');
  return root;
}

export function childOf(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

export function childrenOf(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}
