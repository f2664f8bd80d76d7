import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

let demo: ChildProcess;
let output = '';
let exited: Promise<number | null>;

/** Resolves with the output once `pattern` appears in it; rejects after `ms` or when the demo exits first. */
function waitFor(pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms:\n${output}`)), ms);
    const check = () => {
      if (!pattern.test(output)) return;
      clearTimeout(timer);
      demo.stdout!.off('data', check);
      resolve(output);
    };
    demo.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`make demo exited with ${code}:\n${output}`)));
    check();
  });
}

beforeAll(() => {
  // `-o` treats the install stamp as up to date: a test never installs packages (node_modules is shared).
  demo = spawn('make', ['-s', '-o', 'node_modules/.fastksef-all', 'demo'], {
    cwd: root,
    // Its own process group: stopping it reaches make, tsx and the node process behind them, as Ctrl-C does.
    detached: true,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', SANDBOX_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout!.on('data', (d) => (output += String(d)));
  demo.stderr!.on('data', (d) => (output += String(d)));
  exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
});

afterAll(async () => {
  if (demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid!, 'SIGKILL');
});

describe('make demo', () => {
  test('prints hints whose send numbers an example invoice, and stops on Ctrl-C', async () => {
    const hints = await waitFor(/^Swagger UI: /m, 90_000);
    expect(hints).toMatch(/Company NIP 5265877635; admin admin@localhost \/ \S+; a KSeF token is stored/);

    const send = hints.split('\n').find((l) => l.includes('base64 -w0 examples/vat.xml') && l.includes('/invoices/test/send'));
    expect(send).toBeDefined();
    const { stdout } = await run('bash', ['-c', send!.trim()], { cwd: root, timeout: 30_000 });
    expect(JSON.parse(stdout)).toMatchObject({ mode: 'online', status: 'sent', invoiceNumber: 'FV/2026/11/0001', ksefNumber: expect.stringMatching(/^5265877635-\d{8}-/) });

    process.kill(-demo.pid!, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([exited.then(() => true), new Promise((r) => (timer = setTimeout(() => r(false), 15_000)))]);
    clearTimeout(timer);
    expect(stopped).toBe(true);
    expect(output).toContain('Stopping the demo (SIGINT)');
  }, 150_000);
});
