import OpenAPIBackend from 'openapi-backend';
import addFormats from 'ajv-formats';
import supertest from 'supertest';
import { loadConfig } from '../../src/config.js';
import { loadSpec } from '../../src/http/spec.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'admin-password-1';
export const COMPANY_NIP = '5265877635';
/** Seals KSeF secrets in tests (a server without KSEF_SECRETS_KEY would write a key file into ./data). */
export const TEST_SECRETS_KEY = 'c2VjcmV0cy1rZXktZm9yLWZhc3Qta3NlZi10ZXN0cyE=';

export interface ResponseViolation {
  request: string;
  status: number;
  errors: unknown;
}

/**
 * Every JSON response the server sends in a test is checked against the operation's response schema
 * in spec/openapi.yaml; `violations` collects what does not conform (tests assert it stays empty).
 */
export class ResponseConformance {
  readonly violations: ResponseViolation[] = [];
  private readonly api: OpenAPIBackend;
  private ready: Promise<unknown>;

  constructor() {
    this.api = new OpenAPIBackend({
      definition: loadSpec() as any,
      quick: true,
      validate: true,
      customizeAjv: (ajv) => {
        addFormats(ajv, ['date', 'date-time', 'email', 'uuid', 'uri']);
        return ajv;
      },
    });
    this.ready = this.api.init();
  }

  async init() {
    await this.ready;
  }

  check = (request: { method: string; path: string }, status: number, body: unknown) => {
    const label = `${request.method} ${request.path}`;
    const operation = this.api.matchOperation({ method: request.method, path: request.path, headers: {} } as any);
    if (!operation) {
      const e = (body as any)?.error;
      if (!(typeof e?.code === 'string' && typeof e?.message === 'string')) this.violations.push({ request: label, status, errors: 'not an ErrorResponse' });
      return;
    }
    if (!operation.responses?.[String(status)]) {
      this.violations.push({ request: label, status, errors: `status ${status} is not documented for ${operation.operationId}` });
      return;
    }
    const result = this.api.validateResponse(body, operation, status);
    if (result.errors?.length) this.violations.push({ request: label, status, errors: result.errors });
  };
}

export interface TestServer {
  server: RunningServer;
  url: string;
  http: ReturnType<typeof supertest>;
  conformance: ResponseConformance;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startTestServer(options: { env?: Record<string, string>; logger?: Logger } = {}): Promise<TestServer> {
  const database = await createTestDatabase();
  const conformance = new ResponseConformance();
  await conformance.init();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    COMPANY_NIP,
    COMPANY_NAME: 'Przykładowy Sprzedawca Sp. z o.o.',
    KSEF_SECRETS_KEY: TEST_SECRETS_KEY,
    ...options.env,
  });
  const server = await startServer({ config, logger: options.logger ?? silentLogger, database: database.options, onJsonResponse: conformance.check });
  return {
    server,
    url: server.url,
    http: supertest(server.url),
    conformance,
    database,
    async close() {
      await server.close();
      await database.drop();
    },
  };
}

export const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
export const adminAuth = basic(ADMIN_EMAIL, ADMIN_PASSWORD);
