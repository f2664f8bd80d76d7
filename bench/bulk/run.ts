/**
 * Bulk sending end to end: `npx tsx bench/bulk/run.ts`. The KSeF sandbox and our server each run in a
 * process of their own, both under KSeF's published rate limits (SANDBOX_RATE_LIMITS / KSEF_RATE_LIMITS
 * = published). BENCH_INVOICES invoices (default 10,000, one request's maximum) go in one
 * `POST /invoices/test/batch`; the clock runs from that request until `GET /invoices/test/batch/{id}`
 * says every one has its KSeF number. Printed: the request's own time (validation and storing), the
 * wall time to the last number, and both against the limit-bound minimum of the online path (the
 * published invoiceSend limit, 180 an hour) - what sending them one by one would take at best.
 * Goal: 10,000 invoices in ≤ 5 minutes on the 2-core machine. Database: DATABASE_URL, else PGlite in memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { PUBLISHED_LIMITS } from '../../src/ksef-proxy/transport/limiter.js';

const COUNT = Number(process.env.BENCH_INVOICES ?? 10_000);
const NIP = '5265877635';
const SAMPLE = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'ksef', 'samples', 'fa3-vat.xml');
const token = (nip: string) => `20260101-EC-0123456789-ABCDEF0123-00|nip-${nip}|${'ab'.repeat(32)}`;
const invoice = (run: string, i: number) => Buffer.from(fs.readFileSync(SAMPLE, 'utf8').replace(/<P_2>[^<]*<\/P_2>/, `<P_2>BULK/${run}/${i}</P_2>`));

const children: ChildProcess[] = [];

/** Starts `script` with tsx and resolves with the first URL it prints. */
function startProcess(script: string, env: Record<string, string>, urlPattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), script], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
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
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output.slice(-2000)}`)));
  });
}

async function main() {
  if (!fs.existsSync(SAMPLE)) {
    console.log(`bench/bulk skipped: ${SAMPLE} not found (../shared beside the checkout)`);
    return;
  }
  const apiUrl = await startProcess('src/sandbox/main.ts', { SANDBOX_PORT: '0', SANDBOX_RATE_LIMITS: 'published' }, /(http:\/\/\S+?\/v2)/);
  const serverUrl = await startProcess(
    'src/main.ts',
    {
      PORT: '0',
      HOST: '127.0.0.1',
      ...(process.env.DATABASE_URL ? {} : { PGLITE_MEMORY: '1' }),
      LOG_LEVEL: 'info',
      ADMIN_EMAIL: 'bench@example.com',
      ADMIN_PASSWORD: 'bench-password-1',
      COMPANY_NIP: NIP,
      KSEF_TEST_URL: apiUrl,
      KSEF_RATE_LIMITS: 'published',
      KSEF_SECRETS_KEY: 'ab'.repeat(32),
    },
    /"url":"(http:[^"]+)"/,
  );
  const headers = { Authorization: `Basic ${Buffer.from('bench@example.com:bench-password-1').toString('base64')}` };
  await got.put(`${serverUrl}/ksef/test/credentials`, { json: { ksefToken: token(NIP) }, headers });
  const run = String(Date.now());
  const invoices = Array.from({ length: COUNT }, (_, i) => ({ invoiceXml: invoice(run, i).toString('base64') }));

  const started = Date.now();
  const posted = await got.post(`${serverUrl}/invoices/test/batch`, { json: { invoices }, headers, responseType: 'json', timeout: { request: 600_000 } });
  const accepted = Date.now() - started;
  const { batchId, acceptedCount } = posted.body as { batchId: string; acceptedCount: number };
  if (acceptedCount !== COUNT) throw new Error(`only ${acceptedCount} of ${COUNT} accepted: ${JSON.stringify(posted.body).slice(0, 2000)}`);
  let progress: { status: string; sentCount: number; failedCount: number; referenceNumbers: string[] };
  for (;;) {
    progress = (await got(`${serverUrl}/invoices/test/batch/${batchId}?pageSize=1`, { headers, responseType: 'json' })).body as typeof progress;
    if (progress.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const wall = Date.now() - started;
  if (progress.sentCount !== COUNT) throw new Error(`completed with ${progress.sentCount} sent, ${progress.failedCount} failed`);

  const onlineMinimumMs = (COUNT / PUBLISHED_LIMITS.invoiceSend[2]) * 3_600_000;
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}; ${COUNT} invoices, database ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, published limits on both sides`);
  console.log(`POST /batch answered 202 : ${(accepted / 1000).toFixed(1)} s (every invoice validated and stored)`);
  console.log(`all numbered by KSeF      : ${(wall / 1000).toFixed(1)} s wall in ${progress.referenceNumbers.length} batch session(s) (goal ≤ 300 s)`);
  console.log(`online path at the limit  : ≥ ${(onlineMinimumMs / 3_600_000).toFixed(1)} h (${PUBLISHED_LIMITS.invoiceSend[2]} invoiceSend/h)`);
  console.log(`ratio to that minimum     : ${(wall / onlineMinimumMs).toFixed(5)} (${Math.round(onlineMinimumMs / wall)}× faster than the limit-bound online minimum)`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
  });
