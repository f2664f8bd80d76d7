import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import got from 'got';
import { validateXML } from 'xmllint-wasm';
import { createLogger, type Logger } from '../../src/logger.js';
import { type RunningSandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { adminAuth, startTestServer, type TestServer } from './server.js';
import { sharedPath } from './shared.js';

/** A KSeF token in the official shape (PROTOCOL.md §2.2): the sandbox's open mode accepts it for that NIP. */
export function openModeToken(nip: string): string {
  const hex = randomBytes(10).toString('hex').toUpperCase();
  return `20260101-EC-${hex.slice(0, 10)}-${hex.slice(10)}-00|nip-${nip}|${randomBytes(32).toString('hex')}`;
}

/** The same invoice under another number (P_2): a distinct invoice for KSeF. */
export function withNumber(xml: Buffer, invoiceNumber: string): Buffer {
  const text = xml.toString('utf8');
  const changed = text.replace(/<P_2>[^<]*<\/P_2>/, `<P_2>${invoiceNumber}</P_2>`);
  if (changed === text) throw new Error('no P_2 in the invoice');
  return Buffer.from(changed, 'utf8');
}

export async function upoValidates(xml: Buffer): Promise<{ valid: boolean; errors: string[] }> {
  const result = await validateXML({
    xml: [{ fileName: 'upo.xml', contents: xml }],
    schema: [{ fileName: 'upo-v4-3.xsd', contents: fs.readFileSync(sharedPath('ksef', 'xsd', 'upo-v4-3.xsd')) }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.message) };
}

/** Every log line a server wrote, for asserting that no secret ever reaches the log. */
export class CapturedLog {
  readonly lines: string[] = [];
  readonly logger: Logger = createLogger({ level: 'debug', destination: { write: (line: string) => void this.lines.push(line.trimEnd()) } });
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface KsefStack {
  sandbox: RunningSandbox;
  api: TestServer;
  log: CapturedLog;
  ksefToken: string;
  /** The sandbox's admin API (faults, expiry). */
  sandboxAdmin(method: 'POST' | 'PUT' | 'DELETE', path: string, json?: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

/** The KSeF sandbox with fault injection, and our server pointing its `test` environment at it. */
export async function startKsefStack(options: { sandbox?: SandboxOptions; env?: Record<string, string>; storeToken?: boolean } = {}): Promise<KsefStack> {
  const sandbox = await startSandbox({ faultsEnabled: true, ...options.sandbox });
  const log = new CapturedLog();
  const api = await startTestServer({
    env: { KSEF_TEST_URL: sandbox.apiUrl, KSEF_RATE_LIMITS: 'off', SEND_WAIT_MS: '5000', KSEF_TIMEOUT_MS: '5000', OUTBOX_INTERVAL_MS: '200', ...options.env },
    logger: log.logger,
  });
  const ksefToken = openModeToken('5265877635');
  if (options.storeToken !== false) {
    const res = await api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken });
    if (res.status !== 200) throw new Error(`storing credentials failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return {
    sandbox,
    api,
    log,
    ksefToken,
    async sandboxAdmin(method, path, json) {
      const res = await got(`${sandbox.url}${path}`, { method, json, throwHttpErrors: true, responseType: 'json' });
      return res.body;
    },
    async close() {
      await api.close();
      await sandbox.close();
    },
  };
}
