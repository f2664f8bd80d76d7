/**
 * End-to-end sending through our API versus the same KSeF calls made directly:
 * `npx tsx bench/send/run.ts`. The KSeF sandbox (delays 0, limits off) and our server each run in a
 * process of their own, as KSeF and Fast KSeF would; both sides wait for every invoice's KSeF number.
 * "direct" is ksef-proxy's own KSeF client without our REST layer, validation, database or outbox:
 * challenge → token → session → per invoice AES + send + status polls (at once, then after 50, 100, … ms).
 * "through our API" is `POST /invoices/test/send` per invoice; our server sends it and polls its status
 * the same way, one invoice at a time (at once after the send, then after 25, 50, … ms) - no batched
 * status listing - and writes that first answer together with the invoice's reference in one update.
 * Each side first sends BENCH_WARMUP untimed invoices (JIT, and on our side the KSeF authentication and
 * session that the direct side also sets up before its clock starts); then BENCH_INVOICES are timed.
 * The ratio is our overhead. Database: DATABASE_URL, else embedded PGlite in memory.
 * Also printed: CPU ms per invoice of each process (Linux /proc), to show where the time goes.
 * Options: BENCH_INVOICES (default 300), BENCH_CONCURRENCY (default 8), BENCH_WARMUP (default 40);
 * BENCH_SERVER_NODE_ARGS (node flags for our server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BENCH_LOG_DIR (the processes' output into files there).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { KsefApi } from '../../src/ksef-proxy/transport/api.js';
import { aesEncrypt, newSessionKey, rsaOaepEncrypt, sha256Base64 } from '../../src/ksef-proxy/transport/crypto.js';
import { KsefHttp } from '../../src/ksef-proxy/transport/http.js';
import { RateLimiter } from '../../src/ksef-proxy/transport/limiter.js';
import { type ChildProcess, spawn } from 'node:child_process';

const COUNT = Number(process.env.BENCH_INVOICES ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 40);
const NIP = '5265877635';
const SAMPLE = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'ksef', 'samples', 'fa3-vat.xml');
const token = (nip: string) => `20260101-EC-0123456789-ABCDEF0123-00|nip-${nip}|${'ab'.repeat(32)}`;

const invoice = (run: string, i: number) => Buffer.from(fs.readFileSync(SAMPLE, 'utf8').replace(/<P_2>[^<]*<\/P_2>/, `<P_2>BENCH/${run}/${i}</P_2>`));

interface Run {
  ms: number;
  /** CPU ms per invoice of each process involved. */
  cpu: string;
}

/** `WARMUP` untimed tasks first (numbered after the timed ones), then `count` timed ones. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<Run> {
  let warm = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = warm++; i < WARMUP; i = warm++) await task(count + i);
    }),
  );
  let next = 0;
  const cpuBefore = cpuSnapshot();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, cpu: cpuPerInvoice(cpuBefore, cpuSnapshot()) };
}

async function direct(apiUrl: string): Promise<Run> {
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

/**
 * CPU seconds (user + system) used so far by each party, for the per-invoice CPU report: this process (the
 * clients), the sandbox's and our server's process trees (tsx runs the script in a child), PostgreSQL's
 * processes (every backend on the machine: other jobs' queries count too). Linux /proc only; else empty.
 */
function cpuSnapshot(): Record<string, number> {
  const tick = 100; // USER_HZ
  const stats = new Map<number, { ppid: number; comm: string; cpu: number }>();
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const raw = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const close = raw.lastIndexOf(')');
        const fields = raw.slice(close + 2).split(' ');
        stats.set(Number(entry), { ppid: Number(fields[1]), comm: raw.slice(raw.indexOf('(') + 1, close), cpu: (Number(fields[11]) + Number(fields[12])) / tick });
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    return {};
  }
  const tree = (root: number | undefined): number => {
    if (root === undefined) return 0;
    let sum = stats.get(root)?.cpu ?? 0;
    for (const [pid, s] of stats) if (s.ppid === root) sum += tree(pid);
    return sum;
  };
  const own = process.cpuUsage();
  const out: Record<string, number> = { client: (own.user + own.system) / 1e6, sandbox: tree(processes.sandbox?.pid), server: tree(processes.server?.pid) };
  if (process.env.DATABASE_URL) out.postgres = [...stats.values()].filter((s) => s.comm === 'postgres').reduce((a, s) => a + s.cpu, 0);
  return out;
}

const cpuPerInvoice = (before: Record<string, number>, after: Record<string, number>) =>
  Object.keys(after)
    .filter((k) => after[k] - (before[k] ?? 0) > 0)
    .map((k) => `${k} ${(((after[k] - (before[k] ?? 0)) * 1000) / COUNT).toFixed(1)}`)
    .join(', ');

const processes: { sandbox?: ChildProcess; server?: ChildProcess } = {};

/** Starts `script` with tsx and resolves with the first URL it prints (both our servers print one at start). */
function startProcess(script: string, env: Record<string, string>, urlPattern: RegExp, role: 'sandbox' | 'server'): Promise<string> {
  // BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles our server process.
  const nodeArgs = script === 'src/main.ts' && process.env.BENCH_SERVER_NODE_ARGS ? [...process.env.BENCH_SERVER_NODE_ARGS.split(' '), '--import', 'tsx'] : [require.resolve('tsx/cli')];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  processes[role] = child;
  let output = '';
  // BENCH_LOG_DIR: each process's output (our server's log) into a file there.
  if (process.env.BENCH_LOG_DIR) child.stdout!.pipe(fs.createWriteStream(path.join(process.env.BENCH_LOG_DIR, `${role}.log`)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      const url = urlPattern.exec(output)?.[1];
      if (url) resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
}

async function throughApi(apiUrl: string): Promise<Run> {
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
      'server',
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
  const sandboxUrl = await startProcess('src/sandbox/main.ts', { SANDBOX_PORT: '0' }, /(http:\/\/\S+?\/v2)/, 'sandbox');
  try {
    const directRun = await direct(sandboxUrl);
    const apiRun = await throughApi(sandboxUrl);
    const [directMs, apiMs] = [directRun.ms, apiRun.ms];
    const perSecond = (ms: number) => ((COUNT * 1000) / ms).toFixed(0);
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}; ${COUNT} invoices, concurrency ${CONCURRENCY}, database ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`);
    console.log(`direct KSeF calls : ${perSecond(directMs)} invoices/s (${directMs.toFixed(0)} ms)`);
    console.log(`through our API   : ${perSecond(apiMs)} invoices/s (${apiMs.toFixed(0)} ms)`);
    console.log(`overhead          : ${((apiMs / directMs - 1) * 100).toFixed(0)}% (goal ≤ 25%)`);
    console.log(`CPU ms per invoice: direct: ${directRun.cpu}; through our API: ${apiRun.cpu}`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
