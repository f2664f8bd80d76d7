import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';
import { buildApp } from './http/app.js';
import { resolveOptions, SandboxOptions } from './options.js';
import { SandboxState } from './state.js';

/**
 * The KSeF sandbox: an in-memory simulator of KSeF API 2.0 (paths under /v2, shapes of the official
 * open-api.json) plus a non-KSeF admin API under /sandbox/* for tests and outage simulation.
 */

export type { RateLimitGroup, RateLimitTable, RateLimitValues, SandboxOptions } from './options.js';
export { SandboxState } from './state.js';
export { PUBLISHED_RATE_LIMITS } from './limits/rate-limiter.js';

export interface RunningSandbox {
  /** e.g. http://127.0.0.1:PORT (without /v2). */
  url: string;
  /** url + '/v2'. */
  apiUrl: string;
  close(): Promise<void>;
  /** For tests, read-only use. */
  state: SandboxState;
}

export function createSandboxApp(options: SandboxOptions = {}): { app: Express; state: SandboxState } {
  const resolved = resolveOptions(options);
  const state = new SandboxState(resolved);
  return { app: buildApp(state), state };
}

function urlHost(host: string, address: AddressInfo): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : address.address;
  return h.includes(':') ? `[${h}]` : h;
}

export async function startSandbox(options: SandboxOptions & { port?: number; host?: string } = {}): Promise<RunningSandbox> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  const { app, state } = createSandboxApp(rest);
  await state.keysReady;
  const server = http.createServer(app);
  // Longer than any client's idle keep-alive, as behind KSeF's load balancer: a client reusing a socket must
  // not meet it closed by the server at that very moment (ECONNRESET when the sandbox is busy).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${urlHost(host, address)}:${address.port}`;
  state.listenUrl = url;
  let closing: Promise<void> | undefined;
  return {
    url,
    apiUrl: `${url}/v2`,
    state,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        state.dispose();
        server.close((err) => (err ? reject(err) : resolve()));
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
