import fs from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { validateFa3 } from '../../src/local/fa3/index.js';
import { FA3_XSD_FILE } from '../../src/local/fa3/xsd.js';
import { describeWithShared, sharedPath } from '../support/shared.js';

/** The FA(3) invoices the README and `make demo` point newcomers at. */
const examplesDir = path.join(import.meta.dirname, '..', '..', 'examples');
const exampleNames = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.xml')).sort();
const readExample = (name: string) => fs.readFileSync(path.join(examplesDir, name));

describeWithShared('examples/ (FA(3) invoices written by the project)', () => {
  const xsdDir = sharedPath('ksef', 'xsd');

  it('covers every kind the README promises', async () => {
    const summaries = await Promise.all(exampleNames.map(async (n) => (await validateFa3(readExample(n), { mode: 'ingest' })).summary!));
    const kinds = summaries.map((s) => s.type);
    expect(kinds).toEqual(expect.arrayContaining(['VAT', 'ZAL', 'ROZ', 'KOR']));
    expect(summaries.some((s) => s.currency === 'EUR')).toBe(true);
    expect(exampleNames).toContain('reverse-charge.xml');
    // Our default company (src/accounts/bootstrap.ts) issues every one of them: `make demo` can send each.
    expect(new Set(summaries.map((s) => s.sellerNip))).toEqual(new Set(['5265877635']));
  });

  it('each validates against the official XSD', async () => {
    const result = await validateXML({
      xml: exampleNames.map((n) => ({ fileName: n, contents: readExample(n) })),
      schema: { fileName: FA3_XSD_FILE, contents: fs.readFileSync(path.join(xsdDir, FA3_XSD_FILE)) },
      preload: fs.readdirSync(path.join(xsdDir, 'bazowe')).map((f) => ({
        fileName: `bazowe/${f}`,
        contents: fs.readFileSync(path.join(xsdDir, 'bazowe', f)),
      })),
    });
    expect(result.errors).toEqual([]);
    for (const n of exampleNames) expect(result.rawOutput).toMatch(new RegExp(`^${n.replace('.', '\\.')} validates$`, 'm'));
  });

  it.each(exampleNames)('%s is valid for our validator too: no errors, and no warnings when sent on its issue date to prod', async (name) => {
    const issueDate = (await validateFa3(readExample(name), { mode: 'ingest' })).summary!.issueDate;
    // Sent later it is only warned about (D2: KSeF records it as issued offline); see the issue date as "today".
    const result = await validateFa3(readExample(name), { xsdDir, environment: 'prod', mode: 'issue', today: issueDate });
    expect({ errors: result.errors, warnings: result.warnings }).toEqual({ errors: [], warnings: [] });
    expect(result.valid).toBe(true);
  });
});
