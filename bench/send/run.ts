/**
 * End-to-end sending through our API versus the same KSeF calls made directly:
 * `npx tsx bench/send/run.ts`. The KSeF sandbox (delays 0, limits off) and our server each run in a
 * process of their own, as KSeF and Fast KSeF would; both sides wait for every invoice's KSeF number. "direct" is ksef-proxy's own KSeF client without our REST layer,
 * validation, database or outbox: challenge → token → session → per invoice AES + send + status polls.
 * The ratio is our overhead. Database: DATABASE_URL, else embedded PGlite in memory.
 * Options: BENCH_INVOICES (default 300), BENCH_CONCURRENCY (default 8).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { KsefApi } from '../../src/ksef-proxy/api';
import { aesEncrypt, newSessionKey, rsaOaepEncrypt, sha256Base64 } from '../../src/ksef-proxy/crypto';
import { KsefHttp } from '../../src/ksef-proxy/http';
import { RateLimiter } from '../../src/ksef-proxy/limiter';
import { type ChildProcess, spawn } from 'node:child_process';

const COUNT = Number(process.env.BENCH_INVOICES ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const NIP = '5265877635';
const SAMPLE = path.resolve(__dirname, '..', '..', '..', 'shared', 'ksef', 'samples', 'fa3-vat.xml');
const token = (nip: string) => `20260101-EC-0123456789-ABCDEF0123-00|nip-${nip}|${'ab'.repeat(32)}`;

const invoice = (run: string, i: number) => Buffer.from(fs.readFileSync(SAMPLE, 'utf8').replace(/<P_2>[^<]*<\/P_2>/, `<P_2>BENCH/${run}/${i}</P_2>`));

async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function direct(apiUrl: string): Promise<number> {
  const config = loadConfig({ KSEF_TEST_URL: apiUrl, KSEF_RATE_LIMITS: 'off' }).ksef;
  const api = new KsefApi('test', new KsefHttp({ environment: 'test', config, limiter: new RateLimiter(false), logger: silentLogger }));
  const certs = await api.publicKeyCertificates('bench');
  const tokenCert = certs.find((c) => c.usage.includes('KsefTokenEncryption'))!;
  const keyCert = certs.find((c) => c.usage.includes('SymmetricKeyEncryption'))!;
  const { challenge, timestampMs } = await api.challenge('bench');
  const auth = await api.authenticateWithKsefToken('bench', {
    challenge,
    contextIdentifier: { type: 'Nip', value: NIP },
    encryptedToken: rsaOaepEncrypt(tokenCert.certificate, Buffer.from(`${token(NIP)}|${timestampMs}`)).toString('base64'),
    publicKeyId: tokenCert.publicKeyId,
  });
  while ((await api.authenticationStatus('bench', auth.referenceNumber, auth.authenticationToken.token)).status.code !== 200);
  const { accessToken } = await api.redeem('bench', auth.authenticationToken.token);
  const key = newSessionKey();
  const session = await api.openOnlineSession('bench', accessToken.token, {
    encryptedSymmetricKey: rsaOaepEncrypt(keyCert.certificate, key.key).toString('base64'),
    initializationVector: key.iv.toString('base64'),
    publicKeyId: keyCert.publicKeyId,
  });
  return pool(COUNT, CONCURRENCY, async (i) => {
    const xml = invoice('direct', i);
    const encrypted = aesEncrypt(key, xml);
    const { referenceNumber } = await api.sendInvoice('bench', accessToken.token, session.referenceNumber, {
      invoiceHash: sha256Base64(xml),
      invoiceSize: xml.length,
      encryptedInvoiceHash: sha256Base64(encrypted),
      encryptedInvoiceSize: encrypted.length,
      encryptedInvoiceContent: encrypted.toString('base64'),
      offlineMode: false,
    });
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      const status = await api.invoiceStatus('bench', accessToken.token, session.referenceNumber, referenceNumber);
      if (status.status.code === 200) return;
      if (status.status.code >= 400) throw new Error(`rejected: ${JSON.stringify(status.status)}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  });
}

const children: ChildProcess[] = [];

/** Starts `script` with tsx and resolves with the first URL it prints (both our servers print one at start). */
function startProcess(script: string, env: Record<string, string>, urlPattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), script], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      const url = urlPattern.exec(output)?.[1];
      if (url) resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
}

async function throughApi(apiUrl: string): Promise<number> {
  const server = {
    url: await startProcess(
      'src/main.ts',
      {
        PORT: '0',
        HOST: '127.0.0.1',
        PGLITE_MEMORY: '1',
        LOG_LEVEL: 'info',
        ADMIN_EMAIL: 'bench@example.com',
        ADMIN_PASSWORD: 'bench-password-1',
        COMPANY_NIP: NIP,
        KSEF_TEST_URL: apiUrl,
        KSEF_RATE_LIMITS: 'off',
        KSEF_SECRETS_KEY: 'ab'.repeat(32),
      },
      /"url":"(http:[^"]+)"/,
    ),
  };
  // An integrator's client keeps its connections open, as ksef-proxy does towards KSeF.
  const agent = { http: new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) };
  const auth = { Authorization: `Basic ${Buffer.from('bench@example.com:bench-password-1').toString('base64')}` };
  try {
    await got.put(`${server.url}/ksef/test/credentials`, { json: { ksefToken: token(NIP) }, headers: auth });
    const run = `api${Date.now()}`;
    return await pool(COUNT, CONCURRENCY, async (i) => {
      const res = await got.post(`${server.url}/invoices/test/send`, { json: { invoiceXml: invoice(run, i).toString('base64') }, headers: auth, agent, responseType: 'json' });
      if ((res.body as { status: string }).status !== 'sent') throw new Error(`not sent: ${JSON.stringify(res.body)}`);
    });
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

async function main() {
  if (!fs.existsSync(SAMPLE)) {
    console.log(`bench/send skipped: ${SAMPLE} not found (../shared beside the checkout)`);
    return;
  }
  const sandboxUrl = await startProcess('src/sandbox/main.ts', { SANDBOX_PORT: '0' }, /(http:\/\/\S+?\/v2)/);
  try {
    const directMs = await direct(sandboxUrl);
    const apiMs = await throughApi(sandboxUrl);
    const perSecond = (ms: number) => ((COUNT * 1000) / ms).toFixed(0);
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}; ${COUNT} invoices, concurrency ${CONCURRENCY}, database ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`);
    console.log(`direct KSeF calls : ${perSecond(directMs)} invoices/s (${directMs.toFixed(0)} ms)`);
    console.log(`through our API   : ${perSecond(apiMs)} invoices/s (${apiMs.toFixed(0)} ms)`);
    console.log(`overhead          : ${((apiMs / directMs - 1) * 100).toFixed(0)}% (goal ≤ 25%)`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
