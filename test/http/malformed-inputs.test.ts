import { randomUUID } from 'node:crypto';
import { loadSpec } from '../../src/http/spec.js';
import { adminAuth, startTestServer, type TestServer } from '../support/server.js';

/**
 * Every operation of spec/openapi.yaml (read from the spec, so a new route is walked too) gets malformed
 * path, query, header and body values, one input at a time: the answer is never a 5xx, and every error
 * is our JSON error shape. Nothing is configured for KSeF, and KSeF's addresses point at a closed port.
 */
const spec = loadSpec();
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

type Schema = Record<string, any>;
const deref = <T extends Schema>(node: T): T => {
  let n: Schema = node;
  while (n?.$ref) n = n.$ref.replace(/^#\//, '').split('/').reduce((o: Schema, k: string) => o[k], spec);
  return n as T;
};

/** Something of the schema's kind (not necessarily valid): the other inputs of a request stay plausible. */
function plausible(schemaRef: Schema | undefined): unknown {
  const s = deref(schemaRef ?? {});
  if (s.enum) return s.enum[0];
  if (s.example !== undefined) return s.example;
  if (s.format === 'uuid') return randomUUID();
  if (s.format === 'date') return '2026-03-01';
  if (s.type === 'integer' || s.type === 'number') return 1;
  if (s.type === 'boolean') return true;
  if (s.type === 'array') return [plausible(s.items)];
  if (s.type === 'object' || s.properties) {
    return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, plausible(v as Schema)]));
  }
  return 'x';
}

/** The same object with every property given a value of the wrong type. */
function wrongTypes(schemaRef: Schema | undefined): unknown {
  const s = deref(schemaRef ?? {});
  return Object.fromEntries(
    Object.entries(s.properties ?? {}).map(([k, v]) => {
      const p = deref(v as Schema);
      return [k, p.type === 'string' || p.enum ? 12345 : p.type === 'array' ? { not: 'an array' } : 'not-of-its-type'];
    }),
  );
}

const MALFORMED_PATH = ['%FF', '%00', '%E0%A4%A', 'a'.repeat(3000), '..%2F..%2Fetc%2Fpasswd', '%27%20OR%201%3D1--'];
const MALFORMED_QUERY = ['%FF', '1e309', '-1', '99999999999999999999', '', 'a'.repeat(5000), '%00', '[object Object]'];
const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);

interface Probe {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Only an odd header on an otherwise valid request: it may reach KSeF, which is down here (503 is honest). */
  wellFormed?: boolean;
}

function probesOf(path: string, method: string, op: Schema): Probe[] {
  const params = [...(spec.paths[path].parameters ?? []), ...(op.parameters ?? [])].map((p: Schema) => deref(p));
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const headerParams = params.filter((p) => p.in === 'header');
  const fill = (override: Record<string, string> = {}) =>
    path.replace(/\{(\w+)\}/g, (_m, name) => override[name] ?? encodeURIComponent(String(plausible(pathParams.find((p) => p.name === name)?.schema))));
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const validBody = bodySchema ? JSON.stringify(plausible(bodySchema)) : undefined;
  const json = { 'Content-Type': 'application/json' };
  const base = (label: string, extra: Partial<Probe> = {}): Probe => ({
    label: `${method.toUpperCase()} ${path} ${label}`,
    method,
    path: fill(),
    headers: validBody ? json : {},
    body: validBody,
    ...extra,
  });

  const probes: Probe[] = [];
  for (const p of pathParams) for (const bad of MALFORMED_PATH) probes.push(base(`path ${p.name}=${bad.slice(0, 20)}`, { path: fill({ [p.name]: bad }) }));
  for (const p of queryParams) for (const bad of MALFORMED_QUERY) probes.push(base(`query ${p.name}=${bad.slice(0, 20)}`, { path: `${fill()}?${p.name}=${bad}` }));
  for (const p of headerParams) probes.push(base(`header ${p.name}`, { headers: { ...(validBody ? json : {}), [p.name]: '\u00ff'.repeat(100) } }));
  probes.push(base('header Accept: garbage', { headers: { ...(validBody ? json : {}), Accept: '*/*;q=abc, ///' }, wellFormed: true }));
  if (bodySchema) {
    const bodies: [string, string][] = [
      ['not JSON', '{"invoiceXml":'],
      ['an array', '[]'],
      ['a string', '"text"'],
      ['a number', '12345'],
      ['null', 'null'],
      ['empty object', '{}'],
      ['wrong types', JSON.stringify(wrongTypes(bodySchema))],
      ['10,000 levels deep', deepArray],
      ['NUL characters', JSON.stringify(Object.fromEntries(Object.keys(deref(bodySchema).properties ?? { value: 1 }).map((k) => [k, '\u0000\u0000'])))],
      ['unknown fields', JSON.stringify({ ...(plausible(bodySchema) as object), unexpected: { deeply: ['nested'] } })],
    ];
    for (const [label, body] of bodies) probes.push(base(`body ${label}`, { body }));
    probes.push(base('body as text/plain', { headers: { 'Content-Type': 'text/plain' }, body: validBody }));
    probes.push(base('body in latin1', { headers: { 'Content-Type': 'application/json; charset=latin1' }, body: validBody }));
    probes.push(base('plain body marked gzip', { headers: { ...json, 'Content-Encoding': 'gzip' }, body: validBody }));
    probes.push(base('plain body marked br', { headers: { ...json, 'Content-Encoding': 'br' }, body: validBody }));
  }
  return probes;
}

const probes = Object.entries(spec.paths as Record<string, Schema>).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).flatMap((m) => probesOf(path, m, item[m])),
);

describe('malformed input to every operation of the contract', () => {
  let t: TestServer;
  beforeAll(async () => {
    const closed = 'http://127.0.0.1:9/v2';
    t = await startTestServer({ env: { KSEF_TEST_URL: closed, KSEF_DEMO_URL: closed, KSEF_PROD_URL: closed, OUTBOX_INTERVAL_MS: '0' } });
  });
  afterAll(async () => {
    await t.close();
  });

  test(`${probes.length} probes over ${Object.keys(spec.paths).length} paths: no 5xx, every error in our JSON shape`, async () => {
    expect(probes.length).toBeGreaterThan(300);
    const failures: string[] = [];
    for (const probe of probes) {
      let req = t.http[probe.method as 'get'](probe.path).set('Authorization', adminAuth);
      for (const [name, value] of Object.entries(probe.headers)) req = req.set(name, value);
      const res = await (probe.body !== undefined ? req.send(probe.body) : req);
      const ksefDown = probe.wellFormed && res.status === 503 && res.body?.error?.code === 'ksef_unavailable';
      if (res.status >= 500 && !ksefDown) failures.push(`${probe.label}: ${res.status} ${JSON.stringify(res.body)}`);
      else if (res.status >= 400 && !(typeof res.body?.error?.code === 'string' && typeof res.body.error.message === 'string')) {
        failures.push(`${probe.label}: ${res.status} not our error shape: ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
