/**
 * Injected faults. Durations run on real time (not the injectable clock): they simulate an outage of the
 * service, which tests and the product's outage simulation observe in real time.
 */

export type OutageMode = 'refuse' | '503';

export interface FailNthRule {
  method: string;
  pathPattern: string;
  matcher: RegExp;
  n: number;
  status: number;
  seen: number;
}

export interface FaultSnapshot {
  outage: { mode: OutageMode; until: string | null } | null;
  latencyMs: number;
  tooManyRequests: { remaining: number; retryAfterSeconds: number } | null;
  failNth: Array<{ method: string; pathPattern: string; n: number; status: number; seen: number }>;
  answerDelay: { method: string; pathPattern: string; ms: number } | null;
}

/**
 * A path pattern: a regular expression when it starts with `^`, otherwise an OpenAPI-style template where
 * `{name}` matches one path segment and `*` anything (e.g. `/v2/sessions/online/{ref}/invoices`).
 */
export function pathMatcher(pattern: string): RegExp {
  if (pattern.startsWith('^')) return new RegExp(pattern);
  const escaped = pattern
    .split(/(\{[^}]+\}|\*)/)
    .map((piece) => (piece === '*' ? '.*' : /^\{[^}]+\}$/.test(piece) ? '[^/]+' : piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}$`);
}

export class Faults {
  private outage?: { mode: OutageMode; until?: number };
  latencyMs = 0;
  private tooMany?: { remaining: number; retryAfterSeconds: number };
  private failNth: FailNthRule[] = [];
  /** Matching requests are processed at once, but their answers held back: KSeF has acted, the client has not heard. */
  private answerDelay?: { method: string; pathPattern: string; matcher: RegExp; ms: number };

  setOutage(mode: OutageMode, durationMs?: number): void {
    this.outage = { mode, until: durationMs === undefined ? undefined : Date.now() + durationMs };
  }

  clearOutage(): void {
    this.outage = undefined;
  }

  activeOutage(): OutageMode | undefined {
    if (!this.outage) return undefined;
    if (this.outage.until !== undefined && Date.now() >= this.outage.until) {
      this.outage = undefined;
      return undefined;
    }
    return this.outage.mode;
  }

  forceTooManyRequests(count: number, retryAfterSeconds: number): void {
    this.tooMany = count > 0 ? { remaining: count, retryAfterSeconds } : undefined;
  }

  /** Consumes one forced 429, returning its Retry-After. */
  takeTooManyRequests(): number | undefined {
    if (!this.tooMany) return undefined;
    const { retryAfterSeconds } = this.tooMany;
    if (--this.tooMany.remaining <= 0) this.tooMany = undefined;
    return retryAfterSeconds;
  }

  addFailNth(method: string, pathPattern: string, n: number, status: number): void {
    this.failNth.push({ method: method.toUpperCase(), pathPattern, matcher: pathMatcher(pathPattern), n, status, seen: 0 });
  }

  /** Counts the call against every matching rule; the status of a rule reaching its n-th call (rule removed). */
  takeFailure(method: string, path: string): number | undefined {
    let status: number | undefined;
    for (const rule of this.failNth) {
      if ((rule.method !== '*' && rule.method !== method) || !rule.matcher.test(path)) continue;
      rule.seen++;
      if (rule.seen === rule.n && status === undefined) status = rule.status;
    }
    this.failNth = this.failNth.filter((r) => r.seen < r.n);
    return status;
  }

  setAnswerDelay(method: string, pathPattern: string, ms: number): void {
    this.answerDelay = ms > 0 ? { method: method.toUpperCase(), pathPattern, matcher: pathMatcher(pathPattern), ms } : undefined;
  }

  /** How long the answer to this request is held back (0: not at all). */
  answerDelayFor(method: string, path: string): number {
    const rule = this.answerDelay;
    return rule && (rule.method === '*' || rule.method === method) && rule.matcher.test(path) ? rule.ms : 0;
  }

  clear(): void {
    this.outage = undefined;
    this.latencyMs = 0;
    this.tooMany = undefined;
    this.failNth = [];
    this.answerDelay = undefined;
  }

  snapshot(): FaultSnapshot {
    const mode = this.activeOutage();
    return {
      outage:
        mode && this.outage
          ? { mode, until: this.outage.until === undefined ? null : new Date(this.outage.until).toISOString() }
          : null,
      latencyMs: this.latencyMs,
      tooManyRequests: this.tooMany ? { ...this.tooMany } : null,
      failNth: this.failNth.map(({ method, pathPattern, n, status, seen }) => ({ method, pathPattern, n, status, seen })),
      answerDelay: this.answerDelay ? { method: this.answerDelay.method, pathPattern: this.answerDelay.pathPattern, ms: this.answerDelay.ms } : null,
    };
  }
}
