import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { parseXml } from '../../src/xml/parse.js';
import { XmlSyntaxError, elementPath } from '../../src/xml/tree.js';

/** Documents and whether they are well-formed, namespace-well-formed XML 1.0. */
const documents: [name: string, xml: string, wellFormed: boolean][] = [
  ['an empty element', '<a/>', true],
  ['declaration, comments and PIs around the root', '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- c --><?pi x?><a/><!-- d -->\n', true],
  ['an empty comment', '<a><!----></a>', true],
  ['a comment with a double hyphen', '<a><!-- a -- b --></a>', false],
  ['a comment ending in a hyphen', '<a><!-- a ---></a>', false],
  ['CDATA', '<a><![CDATA[<&>]]></a>', true],
  [']]> in text', '<a>]]></a>', false],
  ['character references up to U+10FFFF', '<a>&#x10FFFF;&#65;</a>', true],
  ['a reference to U+0000', '<a>&#0;</a>', false],
  ['an undeclared entity', '<a>&nbsp;</a>', false],
  ['a bare ampersand', '<a>&</a>', false],
  ["'<' in an attribute", '<a b="<"/>', false],
  ['an unquoted attribute', '<a b=1/>', false],
  ['attributes without whitespace between them', '<a b="1"c="2"/>', false],
  ['a repeated attribute', '<a b="1" b="2"/>', false],
  ['the same namespaced attribute twice', '<a xmlns:p="u" xmlns:q="u" p:b="1" q:b="2"/>', false],
  ['an undeclared prefix', '<x:a/>', false],
  ['an undeclared empty prefix binding', '<a xmlns:p=""/>', false],
  ['the xml prefix bound elsewhere', '<a xmlns:xml="urn:x"/>', false],
  ['a QName with two colons', '<a:b:c xmlns:a="u"/>', false],
  ['a name starting with a digit', '<1a/>', false],
  ['a space before > in an end tag', '<a></a >', true],
  ['a space after </', '<a></ a>', false],
  ['an unclosed element', '<a>', false],
  ['mismatched tags', '<a><b></a></b>', false],
  ['two root elements', '<a/><b/>', false],
  ['text after the root', '<a/>x', false],
  ['a late XML declaration', ' <?xml version="1.0"?><a/>', false],
  ['a PI named xml', '<a><?xml x?></a>', false],
  ['a declaration with encoding before version', '<?xml encoding="UTF-8" version="1.0"?><a/>', false],
  ['a C0 control character', '<a>\u0001</a>', false],
  ['U+FFFE', '<a>\uFFFE</a>', false],
];

describe('XML parser: well-formedness agrees with libxml2', () => {
  it.each(documents)('%s', async (_name, xml, wellFormed) => {
    let ours = true;
    try {
      parseXml(xml);
    } catch (e) {
      expect(e).toBeInstanceOf(XmlSyntaxError);
      ours = false;
    }
    // xmllint reports namespace errors without failing; we count them as not well-formed, as FA(3) needs namespaces.
    const lint = await validateXML({ xml: { fileName: 'doc.xml', contents: Buffer.from(xml, 'utf8') }, normalization: 'format' });
    const theirs = lint.valid && !/namespace error/.test(lint.rawOutput);
    expect({ ours, theirs }).toEqual({ ours: wellFormed, theirs: wellFormed });
  });

  it('refuses a lone surrogate (a string that did not come from UTF-8 bytes)', () => {
    expect(() => parseXml('<a>\uD800</a>')).toThrow(XmlSyntaxError);
  });

  it('refuses a document type declaration (no entity expansion, no external entities)', () => {
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')).toThrow(/DOCTYPE/);
    expect(() => parseXml('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>')).toThrow(/DOCTYPE/);
  });

  it('never reads a file through an external entity, a parameter entity or an external DTD', () => {
    const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xxe-')), 'secret.txt');
    fs.writeFileSync(secret, 'TOP-SECRET');
    const attacks = [
      `<!DOCTYPE a [<!ENTITY x SYSTEM "file://${secret}">]><a>&x;</a>`,
      `<!DOCTYPE a [<!ENTITY % p SYSTEM "file://${secret}"> %p;]><a/>`,
      `<!DOCTYPE a [<!ENTITY % d SYSTEM "file://${secret}"><!ENTITY % e "<!ENTITY x SYSTEM 'file://${secret}'>"> %e;]><a>&x;</a>`,
      `<!DOCTYPE a SYSTEM "file://${secret}"><a/>`,
    ];
    for (const xml of attacks) {
      let message = '';
      try {
        parseXml(xml);
      } catch (e) {
        expect(e).toBeInstanceOf(XmlSyntaxError);
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('TOP-SECRET');
    }
  });

  it('refuses a billion laughs quickly, without expanding it', () => {
    const levels = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
    const started = Date.now();
    expect(() => parseXml(`<!DOCTYPE a [<!ENTITY l0 "lol">${levels}]><a>&l9;</a>`)).toThrow(XmlSyntaxError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('XML parser: the tree', () => {
  it('resolves namespaces: default, prefixed, undeclared default, attributes without namespace', () => {
    const { root } = parseXml(
      '<r xmlns="urn:d" xmlns:p="urn:p"><p:x a="1" p:b="2"/><y xmlns=""><z/></y></r>',
    );
    expect([root.local, root.ns]).toEqual(['r', 'urn:d']);
    const [x, y] = root.children;
    expect([x.local, x.ns]).toEqual(['x', 'urn:p']);
    expect(x.attributes).toEqual([
      { local: 'a', ns: null, value: '1' },
      { local: 'b', ns: 'urn:p', value: '2' },
    ]);
    expect([y.ns, y.children[0].ns]).toEqual([null, null]);
  });

  it('expands references, keeps CDATA, skips comments and normalises line ends', () => {
    const { root } = parseXml('<a>x &amp; &lt;&#x142;&#322;<!-- c --><![CDATA[<b>]]>\r\ny\rz</a>');
    expect(root.text).toBe('x & <łł<b>\ny\nz');
  });

  it('normalises whitespace in attribute values but not characters from references', () => {
    const { root } = parseXml('<a b="x\ty\r\nz" c="x&#10;y"/>');
    expect(root.attributes.map((a) => a.value)).toEqual(['x y z', 'x\ny']);
  });

  it('records the line of each element and of syntax errors', () => {
    const { root } = parseXml('<?xml version="1.0"?>\n<a>\n  <b/>\n  <c>\n</c></a>');
    expect([root.line, root.children[0].line, root.children[1].line]).toEqual([2, 3, 4]);
    try {
      parseXml('<a>\n<b>\n</c></a>');
      throw new Error('not reached');
    } catch (e) {
      expect(e).toMatchObject({ line: 3, reason: expect.stringMatching(/mismatch/) });
    }
  });

  it('records the XML declaration and processing instructions', () => {
    const doc = parseXml('<?xml version="1.0" encoding="utf-8"?>\n<a><?keep me?></a>');
    expect(doc.declaration).toEqual({ version: '1.0', encoding: 'utf-8', standalone: undefined });
    expect(doc.processingInstructions).toEqual([{ target: 'keep', line: 2 }]);
  });

  it('builds XPath-like element paths, indexed only among same-named siblings', () => {
    const { root } = parseXml('<Faktura><Fa><FaWiersz><P_7/></FaWiersz><FaWiersz><P_7/></FaWiersz><P_15/></Fa></Faktura>');
    const fa = root.children[0];
    expect(elementPath(fa.children[1].children[0])).toBe('/Faktura/Fa/FaWiersz[2]/P_7');
    expect(elementPath(fa.children[2])).toBe('/Faktura/Fa/P_15');
  });

  it('parses documents 200 deep and refuses absurd nesting (libxml2 stops at 256)', () => {
    expect(parseXml('<a>'.repeat(200) + '</a>'.repeat(200)).root.local).toBe('a');
    expect(() => parseXml('<a>'.repeat(300) + '</a>'.repeat(300))).toThrow(/Excessive depth/);
  });

  it('parses a large document in linear time', () => {
    const lines = Array.from({ length: 20000 }, (_, i) => `<FaWiersz><NrWierszaFa>${i + 1}</NrWierszaFa><P_7>x &amp; y</P_7></FaWiersz>`);
    const { root } = parseXml(`<Fa>\n${lines.join('\n')}\n</Fa>`);
    expect(root.children).toHaveLength(20000);
    expect(root.children[19999].line).toBe(20001);
  });
});
