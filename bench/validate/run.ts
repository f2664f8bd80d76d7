/**
 * FA(3) validation benchmark (issue 13): `npx tsx bench/validate/run.ts [--calls N]`
 *
 * Validates ../shared/ksef/samples/fa3-vat.xml and a 1,000-line invoice (built by POST /invoices/build's
 * builder) and prints p50/p95 per call, side by side in one run:
 *   - in process: validateFa3 (libxml2 with the FA(3) XSD compiled once, then the business rules);
 *   - over HTTP: POST /invoices/validate on a server on the embedded database;
 *   - the path it replaced for the XSD: xmllint-wasm, which compiled the schema on every call (KSEF_XSD_DIR).
 * Goal: p50 ≤ 2 ms in process for fa3-vat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { validateXML } from 'xmllint-wasm';
import { loadConfig } from '../../src/config.js';
import YAML from 'yaml';
import { buildFa3, type InvoiceDraft } from '../../src/local/fa3-builder/index.js';
import { validateFa3 } from '../../src/local/fa3/index.js';
import { silentLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';

const args = process.argv.slice(2);
const CALLS = Number(args[args.indexOf('--calls') + 1] || 500);
const sharedDir = path.resolve(process.env.KSEF_SHARED_DIR ?? path.join(import.meta.dirname, '..', '..', '..', 'shared'));
const xsdDir = path.join(sharedDir, 'ksef', 'xsd');

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function timed(calls: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < Math.min(20, calls); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

/** The contract's VAT example with its first line repeated 1,000 times at different prices. */
async function thousandLines(): Promise<Buffer> {
  const spec = YAML.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'spec', 'openapi.yaml'), 'utf8'));
  const examples: Record<string, { value: InvoiceDraft }> = spec.paths['/invoices/build'].post.requestBody.content['application/json'].examples;
  const vat = Object.values(examples).find((e) => e.value.kind === 'VAT')!.value;
  const line = vat.lines![0];
  const lines = Array.from({ length: 1000 }, (_, i) => ({ ...line, name: `Pozycja ${i + 1}`, unitNetPrice: `${(i % 97) + 1}.37`, unitGrossPrice: undefined }));
  const built = await buildFa3({ ...vat, number: 'FV/BENCH/1000', lines } as InvoiceDraft, { today: vat.issueDate });
  return built.xml;
}

async function main() {
  const vat = fs.readFileSync(path.join(sharedDir, 'ksef', 'samples', 'fa3-vat.xml'));
  const big = await thousandLines();
  const documents: [string, Buffer, number][] = [
    ['fa3-vat.xml', vat, CALLS],
    ['1,000 lines', big, Math.max(20, Math.round(CALLS / 10))],
  ];
  for (const [name, xml] of documents) {
    const result = await validateFa3(xml, { mode: 'ingest' });
    if (!result.valid) throw new Error(`${name} is not valid: ${JSON.stringify(result.errors.slice(0, 3))}`);
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-validate-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_EMAIL: 'bench@example.com', ADMIN_PASSWORD: 'bench-password-1' });
  const server = await startServer({ config, logger: silentLogger });
  const auth = `Basic ${Buffer.from('bench@example.com:bench-password-1').toString('base64')}`;
  const overHttp = (xml: Buffer) => () =>
    got.post(`${server.url}/invoices/validate`, { json: { invoiceXml: xml.toString('base64') }, headers: { Authorization: auth }, responseType: 'json' });
  const schema = fs.readFileSync(path.join(xsdDir, 'schemat_FA(3)_v1-0E.xsd'));
  const preload = fs.readdirSync(path.join(xsdDir, 'bazowe')).map((f) => ({ fileName: `bazowe/${f}`, contents: fs.readFileSync(path.join(xsdDir, 'bazowe', f)) }));
  const xmllint = (xml: Buffer) => () => validateXML({ xml: [{ fileName: 'invoice.xml', contents: xml }], schema: [{ fileName: 'schemat_FA(3)_v1-0E.xsd', contents: schema }], preload });

  console.log(`FA(3) validation — p50 / p95 per call (ms), Node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  console.log('| document | in process (libxml2, XSD + rules) | over HTTP (POST /invoices/validate) | xmllint-wasm XSD only, compiled per call (replaced) | ratio p50 |');
  console.log('|---|---|---|---|---|');
  for (const [name, xml, calls] of documents) {
    const local = await timed(calls, () => validateFa3(xml, { mode: 'ingest' }));
    const http = await timed(calls, overHttp(xml));
    const old = await timed(Math.max(5, Math.round(calls / 50)), xmllint(xml));
    const f = (t: { p50: number; p95: number }) => `${t.p50.toFixed(2)} / ${t.p95.toFixed(2)}`;
    console.log(`| ${name} (${xml.length} B) | ${f(local)} | ${f(http)} | ${f(old)} | ${(old.p50 / local.p50).toFixed(0)}× |`);
  }
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
