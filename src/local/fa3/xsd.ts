/**
 * The official FA(3) XSD through xmllint-wasm (libxml2). The schema files are read once per directory and
 * kept in memory; xmllint compiles the schema in its worker on every call (the library offers no way to
 * keep a compiled schema), which costs ~0.2 s, so the validator runs this layer only on documents our own
 * layers accept.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { XMLFileInfo, memoryPages, validateXML } from 'xmllint-wasm';
import { ValidationIssue } from './issues.js';
import { XmlElement, elementPath } from './xml.js';

export const FA3_XSD_FILE = 'schemat_FA(3)_v1-0E.xsd';
const BASE_DIR = 'bazowe';
const DOCUMENT_NAME = 'invoice.xml';

interface SchemaBundle {
  schema: XMLFileInfo;
  preload: XMLFileInfo[];
}

const bundles = new Map<string, Promise<SchemaBundle>>();

async function readBundle(dir: string): Promise<SchemaBundle> {
  const baseFiles = (await fs.readdir(path.join(dir, BASE_DIR))).filter((f) => f.endsWith('.xsd')).sort();
  const [schema, ...preload] = await Promise.all([
    fs.readFile(path.join(dir, FA3_XSD_FILE)).then((contents) => ({ fileName: FA3_XSD_FILE, contents })),
    ...baseFiles.map((f) =>
      fs.readFile(path.join(dir, BASE_DIR, f)).then((contents) => ({ fileName: `${BASE_DIR}/${f}`, contents })),
    ),
  ]);
  return { schema, preload };
}

/** The schema files of a directory, read on first use (a failed read is retried on the next call). */
function bundle(dir: string): Promise<SchemaBundle> {
  const key = path.resolve(dir);
  let loading = bundles.get(key);
  if (!loading) {
    loading = readBundle(key);
    bundles.set(key, loading);
    loading.catch(() => bundles.delete(key));
  }
  return loading;
}

/**
 * Validates the exact bytes against the XSD in `xsdDir`. `root` (our parse of the same bytes) lets us turn
 * xmllint's line numbers into element paths.
 */
export async function validateWithXsd(xml: Buffer, xsdDir: string, root?: XmlElement): Promise<ValidationIssue[]> {
  const { schema, preload } = await bundle(xsdDir);
  const result = await validateXML({
    xml: { fileName: DOCUMENT_NAME, contents: xml },
    schema,
    preload,
    maxMemoryPages: 256 * memoryPages.MiB,
  });
  if (result.valid) return [];
  const issues = result.errors.map((e) => toIssue(e.message, e.loc?.lineNumber, root));
  return issues.length > 0 ? issues : [{ path: '/', message: 'The document fails the FA(3) XSD', code: 'XSD' }];
}

function toIssue(raw: string, line: number | undefined, root: XmlElement | undefined): ValidationIssue {
  const message = raw
    .replace(/^.*?(Schemas validity error|Schemas parser error|parser error)\s*:\s*/, '')
    .replace(/\{[^}]*\}/g, '')
    .trim();
  const element = /Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '([^']+)')?/.exec(raw);
  let at = '/';
  if (element && root && line !== undefined) {
    const found = findElement(root, element[1], line);
    if (found) at = elementPath(found) + (element[2] ? `/@${element[2]}` : '');
  }
  return { path: at, message, code: 'XSD', ...(line !== undefined ? { line } : {}) };
}

/** The element named `local` that starts on `line` (xmllint reports an element's start line). */
function findElement(root: XmlElement, local: string, line: number): XmlElement | undefined {
  const stack = [root];
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (el.line === line && el.local === local) return el;
    // Children in reverse so the first in document order is found first (one-line documents).
    if (el.line <= line) for (let i = el.children.length - 1; i >= 0; i--) stack.push(el.children[i]);
  }
  return undefined;
}
