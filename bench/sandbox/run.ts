/**
 * How fast the KSeF sandbox takes invoices through one online session: `npx tsx bench/sandbox/run.ts`.
 * Sandbox and client share this one Node process, i.e. one core; processing delays 0, rate limits off.
 * The client encrypts everything before the clock starts, so the figures are the sandbox's (HTTP, JSON,
 * hashing, AES, XML checks, numbering, UPO).
 * Options: BENCH_INVOICES (default 2000), BENCH_CONCURRENCY (default 16), BENCH_XSD_DIR (XSD validation on).
 */
import { constants, createCipheriv, createHash, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from '../../src/sandbox/index.js';
import { generateFa3 } from '../../src/sandbox/invoices/seed.js';

const COUNT = Number(process.env.BENCH_INVOICES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const NIP = '5265877635';
const SAMPLE = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'ksef', 'samples', 'fa3-vat.xml');

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(url: string, method: string, body?: unknown, token?: string): Promise<{ status: number; json: any }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const oaep = (certB64: string, data: Buffer) =>
  publicEncrypt({ key: new X509Certificate(Buffer.from(certB64, 'base64')).publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, data);

function invoice(i: number, run: string): Buffer {
  const number = `BENCH/${run}/${i}`;
  if (fs.existsSync(SAMPLE)) return Buffer.from(fs.readFileSync(SAMPLE, 'utf8').replace(/<P_2>[^<]*<\/P_2>/, `<P_2>${number}</P_2>`));
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Warsaw' }).format(new Date());
  return Buffer.from(
    generateFa3({ sellerNip: NIP, sellerName: 'Bench', buyerNip: '1234563218', buyerName: 'Buyer', kind: 'VAT', invoiceNumber: number, issueDate: today, currency: 'PLN', netAmount: 100, vatAmount: 23, createdAt: new Date() }),
  );
}

async function main() {
  const sandbox = await startSandbox({ port: 0, xsdDir: process.env.BENCH_XSD_DIR });
  const api = sandbox.apiUrl;
  try {
    const certs = (await request(`${api}/security/public-key-certificates`, 'GET')).json as Array<{ certificate: string; publicKeyId: string; usage: string[] }>;
    const tokenCert = certs.find((c) => c.usage.includes('KsefTokenEncryption'))!;
    const keyCert = certs.find((c) => c.usage.includes('SymmetricKeyEncryption'))!;
    const challenge = (await request(`${api}/auth/challenge`, 'POST')).json;
    const ksefToken = `20260101-EC-0000000000-0000000000-00|nip-${NIP}|${randomBytes(32).toString('hex')}`;
    const init = (
      await request(`${api}/auth/ksef-token`, 'POST', {
        challenge: challenge.challenge,
        contextIdentifier: { type: 'Nip', value: NIP },
        encryptedToken: oaep(tokenCert.certificate, Buffer.from(`${ksefToken}|${challenge.timestampMs}`)).toString('base64'),
        publicKeyId: tokenCert.publicKeyId,
      })
    ).json;
    const redeemed = (await request(`${api}/auth/token/redeem`, 'POST', undefined, init.authenticationToken.token)).json;
    const access = redeemed.accessToken.token as string;

    const key = randomBytes(32);
    const iv = randomBytes(16);
    const session = (
      await request(
        `${api}/sessions/online`,
        'POST',
        {
          formCode: { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' },
          encryption: { encryptedSymmetricKey: oaep(keyCert.certificate, key).toString('base64'), initializationVector: iv.toString('base64'), publicKeyId: keyCert.publicKeyId },
        },
        access,
      )
    ).json;

    const run = `${Date.now()}`;
    const bodies = Array.from({ length: COUNT }, (_, i) => {
      const xml = invoice(i, run);
      const cipher = createCipheriv('aes-256-cbc', key, iv);
      const encrypted = Buffer.concat([cipher.update(xml), cipher.final()]);
      return {
        invoiceHash: sha(xml),
        invoiceSize: xml.length,
        encryptedInvoiceHash: sha(encrypted),
        encryptedInvoiceSize: encrypted.length,
        encryptedInvoiceContent: encrypted.toString('base64'),
      };
    });

    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const sent = await request(`${api}/sessions/online/${session.referenceNumber}/invoices`, 'POST', body, access);
          if (sent.status !== 202) throw new Error(`send failed: ${sent.status} ${JSON.stringify(sent.json)}`);
        }
      }),
    );
    const sentAt = process.hrtime.bigint();
    let status;
    do {
      status = (await request(`${api}/sessions/${session.referenceNumber}`, 'GET', undefined, access)).json;
    } while (status.successfulInvoiceCount + status.failedInvoiceCount < COUNT);
    const processedAt = process.hrtime.bigint();
    const cpu = process.cpuUsage(cpuBefore);
    if (status.failedInvoiceCount) throw new Error(`${status.failedInvoiceCount} invoices failed`);
    await request(`${api}/sessions/online/${session.referenceNumber}/close`, 'POST', undefined, access);
    do {
      status = (await request(`${api}/sessions/${session.referenceNumber}`, 'GET', undefined, access)).json;
    } while (status.status.code !== 200);
    const closedAt = process.hrtime.bigint();

    const seconds = (from: bigint, to: bigint) => Number(to - from) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    console.log(`KSeF sandbox benchmark — ${COUNT} invoices (${bodies[0].invoiceSize} B each), concurrency ${CONCURRENCY}, XSD ${process.env.BENCH_XSD_DIR ? 'on' : 'off'}`);
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}), node ${process.version}; sandbox + client on one event loop`);
    console.log(`accepted (202):          ${(COUNT / seconds(started, sentAt)).toFixed(0)} invoices/s`);
    console.log(`processed to 200:        ${(COUNT / seconds(started, processedAt)).toFixed(0)} invoices/s (${seconds(started, processedAt).toFixed(2)} s)`);
    console.log(`close -> session UPO:    ${(seconds(processedAt, closedAt) * 1000).toFixed(0)} ms`);
    console.log(`one-core capacity:       ${(COUNT / cpuSeconds).toFixed(0)} invoices per CPU-second (${((cpuSeconds * 1000) / COUNT).toFixed(2)} ms CPU per invoice, client included)`);
  } finally {
    agent.destroy();
    await sandbox.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
