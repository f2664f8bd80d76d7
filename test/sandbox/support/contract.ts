import fs from 'node:fs';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Hooks } from 'got';
import { sharedPath } from '../../support/shared.js';

/**
 * Checks HTTP exchanges against the official KSeF OpenAPI document (../shared/ksef/official/open-api.json):
 * every response must use a status and content type declared for its operation and match that schema, with
 * the declared headers (Retry-After, x-ms-meta-hash) present; every JSON request body must match the
 * operation's request schema. Paths outside /v2 (pre-signed storage links, the /sandbox admin API) are
 * not KSeF operations and are skipped.
 */

type Json = Record<string, unknown>;

interface Operation {
  template: string;
  matcher: RegExp;
  literals: number;
  method: string;
  spec: Json;
}

export interface Exchange {
  method: string;
  path: string;
  status: number;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** OpenAPI 3.0 → JSON Schema: refs into the registered spec, `nullable` as a null alternative. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.replace(/^#\//, 'openapi#/');
    else if (k !== 'nullable' && k !== 'example' && k !== 'examples') out[k] = toJsonSchema(v);
  }
  return (node as Json).nullable === true ? { anyOf: [{ type: 'null' }, out] } : out;
}

export class ContractViolation extends Error {}

export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Every exchange checked so far (tests assert coverage with it). */
  readonly seen: Exchange[] = [];

  constructor(specPath = sharedPath('ksef', 'official', 'open-api.json')) {
    const spec = JSON.parse(fs.readFileSync(specPath, 'utf8')) as { paths: Record<string, Json>; components: Json };
    // Not unicode regexes: the spec's patterns are .NET ones, and certificateName's escapes a space (`\ `).
    this.ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(this.ajv);
    this.ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    this.ajv.addFormat('double', { type: 'number', validate: () => true });
    this.ajv.addFormat('byte', (s: string) => BASE64.test(s));
    this.ajv.addSchema({ $id: 'openapi', components: toJsonSchema(spec.components) } as Json);
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || typeof op !== 'object' || !('responses' in (op as Json))) continue;
        const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
        this.operations.push({
          template,
          matcher: new RegExp(`^${pattern}$`),
          literals: template.split('/').filter((s) => s && !s.startsWith('{')).length,
          method: method.toUpperCase(),
          spec: op as Json,
        });
      }
    }
    this.operations.sort((a, b) => b.literals - a.literals);
  }

  /** The spec operation for a /v2 URL; undefined for paths that are not KSeF API operations. */
  operation(method: string, url: string): Operation | undefined {
    const path = new URL(url).pathname;
    if (!path.startsWith('/v2/')) return undefined;
    const apiPath = path.slice(3);
    const op = this.operations.find((o) => o.method === method.toUpperCase() && o.matcher.test(apiPath));
    if (!op) throw new ContractViolation(`${method} ${apiPath}: not an operation of open-api.json`);
    return op;
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(toJsonSchema(schema) as Json);
      this.compiled.set(key, fn);
    }
    return fn;
  }

  private check(key: string, schema: unknown, value: unknown, what: string) {
    const validate = this.validator(key, schema);
    if (!validate(value)) {
      const errors = (validate.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new ContractViolation(`${what} does not match open-api.json: ${errors}\n${JSON.stringify(value).slice(0, 600)}`);
    }
  }

  checkRequest(method: string, url: string, body: unknown): void {
    const op = this.operation(method, url);
    if (!op) return;
    const schema = (op.spec.requestBody as Json | undefined)?.content as Json | undefined;
    const json = (schema?.['application/json'] as Json | undefined)?.schema;
    if (!json) throw new ContractViolation(`${method} ${op.template}: sends a JSON body but the operation takes none`);
    this.check(`req ${method} ${op.template}`, json, body, `request body of ${method} ${op.template}`);
  }

  checkResponse(method: string, url: string, status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): void {
    const op = this.operation(method, url);
    if (!op) return;
    const what = `${method} ${op.template} -> ${status}`;
    this.seen.push({ method: method.toUpperCase(), path: op.template, status });
    const response = (op.spec.responses as Json)[String(status)] as Json | undefined;
    if (!response) throw new ContractViolation(`${what}: status not declared in open-api.json`);
    const declaredHeaders = Object.keys((response.headers as Json | undefined) ?? {}).map((h) => h.toLowerCase());
    if (declaredHeaders.includes('retry-after') && !/^\d+$/.test(String(headers['retry-after'] ?? ''))) {
      throw new ContractViolation(`${what}: Retry-After header missing or not an integer`);
    }
    if (declaredHeaders.includes('x-ms-meta-hash') && !/^[A-Za-z0-9+/]{43}=$/.test(String(headers['x-ms-meta-hash'] ?? ''))) {
      throw new ContractViolation(`${what}: x-ms-meta-hash header missing or not a Base64 SHA-256`);
    }
    const content = response.content as Json | undefined;
    if (!content) {
      if (body.length) throw new ContractViolation(`${what}: the operation declares no body but got ${body.length} bytes`);
      return;
    }
    const type = String(headers['content-type'] ?? '').split(';')[0].trim();
    const media = content[type] as Json | undefined;
    if (!media) throw new ContractViolation(`${what}: content type "${type}" not declared (declared: ${Object.keys(content).join(', ')})`);
    if (type === 'application/xml') {
      if (!body.length) throw new ContractViolation(`${what}: empty XML body`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new ContractViolation(`${what}: body is not JSON`);
    }
    this.check(`res ${method} ${op.template} ${status} ${type}`, media.schema, parsed, `response of ${what}`);
  }

  /**
   * got hooks that check every request body and response passing through a client. A request that is
   * malformed on purpose opts out with `context: { contract: 'responses-only' }` (or `'off'`).
   */
  hooks(): Partial<Hooks> {
    const mode = (context: unknown) => (context as { contract?: 'responses-only' | 'off' } | undefined)?.contract;
    return {
      beforeRequest: [
        (options) => {
          const json = (options as { json?: unknown }).json;
          if (json !== undefined && !mode(options.context)) this.checkRequest(options.method, options.url.toString(), json);
        },
      ],
      afterResponse: [
        (response) => {
          if (mode(response.request.options.context) === 'off') return response;
          this.checkResponse(
            response.request.options.method,
            response.url,
            response.statusCode,
            response.headers,
            response.rawBody ?? Buffer.alloc(0),
          );
          return response;
        },
      ],
    };
  }
}

let shared: ContractValidator | undefined;

/** One validator per test file (compiling the spec's schemas is the slow part). */
export const contract = () => (shared ??= new ContractValidator());
