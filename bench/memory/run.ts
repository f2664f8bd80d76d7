/**
 * Memory of the whole server process tree (issue 15): `npx tsx bench/memory/run.ts [--renders N]`
 *
 * Builds dist/ and runs the compiled server as production does (plain node, embedded PGlite in a fresh data
 * directory, PDF_IDLE_MS=5000), then prints the RSS of the server process plus all its descendants (Chromium's
 * processes included): idle after the first start, while rendering PDFs through POST /invoices/render, and
 * after PDF_IDLE_MS without renders. Goals: idle ≤ 300 MB, rendering ≤ 600 MB, after idle ≤ 350 MB.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';

const args = process.argv.slice(2);
const RENDERS = Number(args[args.indexOf('--renders') + 1] || 100);
const root = path.join(import.meta.dirname, '..', '..');
const IDLE_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The process and every descendant (Linux /proc). */
function tree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children
  }
  return [pid, ...children.flatMap(tree)];
}

function rssMiB(pid: number): number {
  let kib = 0;
  for (const p of tree(pid)) {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited meanwhile
    }
  }
  return Math.round(kib / 1024);
}

async function main() {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastksef-bench-memory-'));
  const password = 'bench-password-1';
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '', ADMIN_EMAIL: 'bench@example.com', ADMIN_PASSWORD: password, PDF_IDLE_MS: String(IDLE_MS), KSEF_SECRETS_KEY: 'c2VjcmV0cy1rZXktZm9yLWZhc3Qta3NlZi10ZXN0cyE=' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
        const m = /"url":"([^"]+)"/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const auth = { username: 'bench@example.com', password };
    await got(`${url}/status`);
    await sleep(3_000);
    const idle = rssMiB(child.pid!);

    const invoiceXml = fs.readFileSync(path.join(root, 'examples', 'vat.xml')).toString('base64');
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(child.pid!))), 100);
    for (let i = 0; i < RENDERS; i++) {
      // A new invoice number each time: no cache hit, a real render.
      const xml = Buffer.from(Buffer.from(invoiceXml, 'base64').toString('utf8').replace(/<P_2>[^<]*<\/P_2>/, `<P_2>BENCH/${i}</P_2>`)).toString('base64');
      const res = await got.post(`${url}/invoices/render`, { ...auth, json: { invoiceXml: xml, docType: 'pdf' } }).json<{ contentType: string }>();
      if (res.contentType !== 'application/pdf') throw new Error('not a PDF');
    }
    clearInterval(sampler);
    const afterRenders = rssMiB(child.pid!);
    await sleep(IDLE_MS + 3_000);
    const afterIdle = rssMiB(child.pid!);

    const row = (what: string, mib: number, goal: number) => console.log(`${what.padEnd(44)} ${String(mib).padStart(5)} MiB   goal ≤ ${goal} MiB ${mib <= goal ? 'met' : 'NOT met'}`);
    console.log(`server process tree RSS (node dist/src/main.js + descendants), embedded PGlite, ${RENDERS} PDF renders`);
    row('idle after the first start (initdb included)', idle, 300);
    row(`peak while rendering`, peak, 600);
    row('right after the renders', afterRenders, 600);
    row(`after PDF_IDLE_MS (${IDLE_MS} ms) without renders`, afterIdle, 350);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
