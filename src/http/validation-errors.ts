import type { ErrorObject } from 'ajv';
import type { ErrorDetail } from './errors.js';

const locations: Record<string, string> = { requestBody: 'body', query: 'query', path: 'path', params: 'path', headers: 'header' };

const describe = (value: unknown) => (typeof value === 'string' ? `"${value.length > 60 ? value.slice(0, 57) + '...' : value}"` : JSON.stringify(value));

function valueAt(root: unknown, pointer: string[]): unknown {
  let cur = root as any;
  for (const seg of pointer) cur = cur?.[seg];
  return cur;
}

/** ajv errors → `{path: 'body.email', message: ...}` naming the field and, for enums, the offending value. */
export function toErrorDetails(errors: ErrorObject[] | null | undefined, request: { body?: unknown; query?: unknown; params?: unknown }): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const segments = e.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const [where, ...rest] = segments;
    const prefix = locations[where] ?? where ?? 'body';
    const source = prefix === 'body' ? request.body : prefix === 'query' ? request.query : request.params;
    const field = [...rest];
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') field.push(String((e.params as any).missingProperty)), (message = 'is required');
    else if (e.keyword === 'additionalProperties') field.push(String((e.params as any).additionalProperty)), (message = 'is not an allowed field');
    else if (e.keyword === 'enum') message = `must be one of ${((e.params as any).allowedValues as unknown[]).join(', ')} (got ${describe(valueAt(source, rest))})`;
    else if (e.keyword === 'format' && (e.params as any).format === 'byte') message = 'must be Base64 (standard alphabet, with padding)';
    else if (e.keyword === 'pattern') message = `has an invalid format (got ${describe(valueAt(source, rest))})`;
    // Array positions as indexes: `body.invoices[3].invoiceXml`.
    const path = [prefix, ...field].join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message });
  }
  return details;
}
