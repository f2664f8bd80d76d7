import type { DateFormatter } from '../settings/date-format.js';

/** Every Date in a response body becomes a string through the one configured formatter. */
export function formatDates(value: unknown, format: DateFormatter): unknown {
  if (value instanceof Date) return format(value);
  if (Array.isArray(value)) return value.map((v) => formatDates(v, format));
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = formatDates(v, format);
    return out;
  }
  return value;
}
