/**
 * `make demo`: the KSeF sandbox and Fast KSeF wired together in one process, with an in-memory database;
 * stores a KSeF token for the default company through the API and prints what to try next. Ctrl-C stops both.
 *
 * PORT (default 3000) is the API's port, SANDBOX_PORT (default 4010) the sandbox's; 0 picks a free one.
 * Nothing persists: every start is a clean first hour.
 */
import crypto from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startSandbox } from '../src/sandbox/index.js';
import { startServer } from '../src/server.js';

/** The bootstrap's default company (src/accounts/bootstrap.ts): the seller of every invoice in examples/. */
const COMPANY_NIP = '5265877635';
const ADMIN_EMAIL = 'admin@localhost';

const port = (name: string, fallback: number) => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : Number(raw);
};

const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');
/** The shape the sandbox's open token mode accepts: `<reference>|nip-<NIP>|<hex>`, the reference as KSeF writes one. */
const sandboxToken = (nip: string) => `20261201-EC-${hex(5).toUpperCase()}-${hex(5).toUpperCase()}-${hex(1).toUpperCase()}|nip-${nip}|${hex(16)}`;

async function main() {
  // The admin API (SANDBOX_FAULTS=1 of `make sandbox`) is on: it issues offline certificates for the offline mode.
  const sandbox = await startSandbox({ port: port('SANDBOX_PORT', 4010), host: '127.0.0.1', faultsEnabled: true });
  const password = crypto.randomBytes(12).toString('base64url');
  const config = loadConfig({
    ...process.env,
    PORT: String(port('PORT', 3000)),
    HOST: process.env.HOST || '127.0.0.1',
    PGLITE_MEMORY: '1',
    DATABASE_URL: '',
    ADMIN_EMAIL,
    ADMIN_PASSWORD: password,
    COMPANY_NIP,
    COMPANY_NAME: 'Fast KSeF Demo Sp. z o.o.',
    // An in-memory database needs no key file; the key lives as long as the data.
    KSEF_SECRETS_KEY: crypto.randomBytes(32).toString('base64'),
    KSEF_TEST_URL: sandbox.apiUrl,
    KSEF_RATE_LIMITS: 'off',
  });
  const server = await startServer({ config, logger: createLogger({ level: process.env.LOG_LEVEL ? config.logLevel : 'warn' }) });

  const stop = async (signal: string) => {
    process.stdout.write(`\nStopping the demo (${signal})\n`);
    await server.close();
    await sandbox.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  const auth = 'Basic ' + Buffer.from(`${ADMIN_EMAIL}:${password}`).toString('base64');
  const stored = await fetch(`${server.url}/ksef/test/credentials`, {
    method: 'PUT',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ksefToken: sandboxToken(COMPANY_NIP) }),
  });
  if (!stored.ok) throw new Error(`storing the KSeF token failed: ${stored.status} ${await stored.text()}`);
  process.stdout.write(hints(server.url, sandbox.url, password));
}

function hints(url: string, sandboxUrl: string, password: string): string {
  const u = `${ADMIN_EMAIL}:${password}`;
  const send = (file: string) =>
    `curl -s -u ${u} -H 'Content-Type: application/json' -d "{\\"invoiceXml\\":\\"$(base64 -w0 ${file})\\",\\"mode\\":\\"online\\"}" ${url}/invoices/test/send`;
  return `
Fast KSeF demo: the API on ${url}, KSeF's "test" environment is the sandbox on ${sandboxUrl}.
Company NIP ${COMPANY_NIP}; admin ${ADMIN_EMAIL} / ${password}; a KSeF token is stored. Nothing persists; Ctrl-C stops both.

Try, from the repository root:
  curl -s ${url}/status
  curl -s -u ${u} ${url}/ksef/test/connection
  curl -s -u ${u} -H 'Content-Type: application/json' -d "{\\"invoiceXml\\":\\"$(base64 -w0 examples/vat.xml)\\"}" ${url}/invoices/validate
  ${send('examples/vat.xml')}
  ${send('examples/eur.xml')}
  curl -s -u ${u} '${url}/invoices/test?direction=issued'
  curl -s -u ${u} '${url}/invoices/test/KSEF_NUMBER?docType=pdf'   # the number a send printed
Swagger UI: ${url}/swagger (Authorize with ${ADMIN_EMAIL} / ${password}). More invoices: examples/README.md.

`;
}

main().catch((err) => {
  process.stderr.write(`The demo failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
