/**
 * pino, JSON lines in pino's shape (`level`, `time`, `pid`, `hostname`, `msg`). Call it pino's way,
 * fields first: `logger.warn({ environment }, 'message')` (pino's types refuse a message followed by fields).
 *
 * No secret reaches the log: every field whose name looks secret is masked at any depth, in what a call
 * logs and in child bindings, before it is written. pino's own `redact` is path-based, so it cannot promise
 * that for fields nobody thought of; it masks the credential headers of a logged `req` / `res`, which pino's
 * standard serializers reduce to method, URL and headers (never the raw headers or the body).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { types } from 'node:util';
import pino, { type DestinationStream } from 'pino';

export type Logger = pino.Logger;

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const secretName = /pass(word)?|secret|token|authorization|private.?key|cookie/i;
const REDACTED = '[redacted]';
/** Deeper than this, a value is not written at all (it cannot be inspected for secrets at no cost). */
const MAX_DEPTH = 10;
const HEADER_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

/** `value` with every field named like a secret masked, at any depth; Errors keep type, message and stack. */
function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
  if (value instanceof Date) return value;
  if (types.isNativeError(value)) return redactSecrets(pino.stdSerializers.err(value), depth);
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  // An object that serializes itself (got's options, a URL) is masked in the shape it would be written in.
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return redactSecrets(toJSON.call(value), depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = secretName.test(k) ? REDACTED : redactSecrets(v, depth + 1);
  return out;
}

/** What a call logs, masked. `req` and `res` are left to their serializers, whose output `redact` masks. */
function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = secretName.test(k) ? REDACTED : k === 'req' || k === 'res' ? v : redactSecrets(v, 1);
  return out;
}

/** Errors arrive already serialized (see redactSecrets): pino's serializer would serialize them again. */
const errorSerializer = (value: unknown) => (types.isNativeError(value) ? pino.stdSerializers.err(value) : value);

/** What every line written on behalf of one request carries, wherever in the code it is written. */
export interface LogContext {
  requestId: string;
}

const logContext = new AsyncLocalStorage<LogContext>();

/**
 * Runs `fn` with `context` on every line logged within it, including those of ksef-proxy and of work it
 * starts (a sync run started by a request carries that request's id).
 */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return logContext.run(context, fn);
}

/** The request's context, unless the logger already binds it (the access line's logger does). */
function contextOf(_fields: object, _level: number, logger: Logger): object {
  const context = logContext.getStore();
  return context && !('requestId' in logger.bindings()) ? context : {};
}

/** `destination`: where lines go (default stdout, written synchronously so nothing is lost at exit). */
export function createLogger(options: { level?: LogLevel; destination?: DestinationStream } = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      formatters: { log: redactFields },
      mixin: contextOf,
      serializers: { err: errorSerializer, req: pino.stdSerializers.req, res: pino.stdSerializers.res },
      redact: { paths: HEADER_PATHS, censor: REDACTED },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  // pino applies `formatters.bindings` to the root's bindings only: a child's are masked here, and every
  // child inherits this `child` (pino children are prototype copies of their parent).
  // (The casts only drop pino's custom-levels generic, which this project does not use.)
  type Child = (this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) => Logger;
  const child = logger.child as unknown as Child;
  const maskedChild: Child = function (bindings, childOptions) {
    return child.call(this, redactFields(bindings), childOptions);
  };
  logger.child = maskedChild as unknown as Logger['child'];
  return logger;
}

export const silentLogger: Logger = pino({ level: 'silent' });
