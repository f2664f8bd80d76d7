import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import ajvFormats from 'ajv-formats';
import { OpenAPIBackend } from 'openapi-backend';
import { loadSpec } from '../../src/http/spec.js';

/** One request a receiver got: the raw body as received, its headers, when, and what it answered. */
export interface ReceivedRequest {
  body: string;
  headers: http.IncomingHttpHeaders;
  at: number;
  answered: number;
  /** The parsed body. */
  event: { id: string; type: string; createdAt: string; environment: string; data: Record<string, any> };
}

/** How the receiver answers a request: a status (and headers), or 'hang' (never answers). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A webhook receiver as an integrator would run it: a plain node http server on a free port, recording
 * every request. `answer` decides each response (default 200).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests left unanswered ('hang') whose connection is still open, and the most there ever were at once. */
  hanging = 0;
  mostHanging = 0;
  answer: (req: Omit<ReceivedRequest, 'answered'>, index: number) => Answer = () => ({ status: 200 });
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received = { body, headers: req.headers, at: Date.now(), event: JSON.parse(body) };
      const answer = this.answer(received, this.requests.length);
      if (answer === 'hang') {
        this.requests.push({ ...received, answered: 0 });
        this.hanging++;
        this.mostHanging = Math.max(this.mostHanging, this.hanging);
        res.on('close', () => this.hanging--);
        return;
      }
      this.requests.push({ ...received, answered: answer.status });
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  url = '';

  static async start(): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hooks`;
    return r;
  }

  /** The requests carrying events of `type` (and matching `filter`). */
  of(type: string, filter: (data: Record<string, any>) => boolean = () => true): ReceivedRequest[] {
    return this.requests.filter((r) => r.event.type === type && filter(r.event.data));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Verifies `X-FastKSeF-Signature` as the README tells receivers to, independently of the server's code:
 * HMAC-SHA256(secret, "<t>.<raw body>") in hex, compared in constant time with each `v1` (one per secret
 * during a rotation), `t` at most 5 minutes old.
 */
export function signatureValid(secret: string, request: Pick<ReceivedRequest, 'body' | 'headers'>, now = Date.now()): boolean {
  const [stamp, ...signatures] = String(request.headers['x-fastksef-signature'] ?? '').split(',');
  const t = /^t=(\d+)$/.exec(stamp)?.[1];
  if (!t || signatures.length === 0 || !signatures.every((v) => /^v1=[0-9a-f]{64}$/.test(v))) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${request.body}`).digest();
  const fresh = Math.abs(now / 1000 - Number(t)) <= 300;
  return fresh && signatures.some((v) => timingSafeEqual(expected, Buffer.from(v.slice(3), 'hex')));
}

/** Polls until `probe` answers something truthy. */
export async function eventually<T>(what: string, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Checks event bodies against the spec's `WebhookEvent` (and each event's `data` schema) with the same
 * validator the response conformance check uses: the contract's documentation of what receivers get.
 */
export async function webhookEventChecker(): Promise<(event: unknown) => unknown[]> {
  const spec = loadSpec() as any;
  const schema = { $ref: '#/components/schemas/WebhookEvent' };
  const definition = {
    ...spec,
    paths: { '/webhook-event': { post: { operationId: 'webhookEvent', responses: { '200': { description: 'an event', content: { 'application/json': { schema } } } } } } },
  };
  const api = new OpenAPIBackend({
    definition,
    quick: true,
    validate: true,
    customizeAjv: (ajv) => {
      ajvFormats.default(ajv, ['date', 'date-time', 'uuid']);
      return ajv;
    },
  });
  await api.init();
  return (event) => api.validateResponse(event, 'webhookEvent', 200).errors ?? [];
}
