/**
 * Prometheus metrics (prom-client), one registry per server so several servers in one process (the tests)
 * never share a series. The domain does not know this module: ksef-proxy and the PDF renderer accept an
 * observer callback, and server.ts passes them the methods below; the operator gauges are read from the
 * database when scraped, through the readers server.ts gives.
 *
 * Labels are bounded on purpose: an operationId (never a raw path), an HTTP status, a KSeF endpoint group,
 * an environment, an outbox status, a subject type.
 */
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface OutboxReading {
  environment: string;
  status: string;
  invoices: number;
  oldestCreatedAt: Date | null;
}

export interface SyncReading {
  environment: string;
  subjectType: string;
  lastSuccessAt: Date;
}

/** The operator gauges' sources, read at scrape time (cheap aggregates over every company). */
export interface MetricReaders {
  outbox(): Promise<OutboxReading[]>;
  sync(): Promise<SyncReading[]>;
}

export class Metrics {
  readonly contentType: string;
  private readonly registry = new Registry();
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Requests to this API by operationId (unknown: a path the contract does not have) and HTTP status (aborted: the client went away).',
    labelNames: ['operationId', 'status'] as const,
    registers: [this.registry],
  });
  private readonly ksefDuration = new Histogram({
    name: 'fastksef_ksef_request_duration_seconds',
    help: "Each HTTP exchange with KSeF (every attempt of a retried call) by environment, endpoint group and status (the HTTP status, timeout or network_error).",
    labelNames: ['environment', 'endpoint', 'status'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly pdfDuration = new Histogram({
    name: 'fastksef_pdf_render_duration_seconds',
    help: 'PDF renders (cache hits excluded), from waiting for a page to having the bytes, by outcome (ok, error).',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [this.registry],
  });
  private readonly outboxInvoices = new Gauge({
    name: 'fastksef_outbox_invoices',
    help: 'Invoices of the outbox, every company: queued (waiting to be sent), pending (sent, KSeF not done), error (refused).',
    labelNames: ['environment', 'status'] as const,
    registers: [this.registry],
  });
  private readonly oldestQueued = new Gauge({
    name: 'fastksef_outbox_oldest_queued_seconds',
    help: 'Age of the oldest invoice waiting to be sent (status queued), every company; 0 when none waits.',
    labelNames: ['environment'] as const,
    registers: [this.registry],
  });
  private readonly syncLag = new Gauge({
    name: 'fastksef_sync_lag_seconds',
    help: "Time since the last successful sync of a subject type (the least recent over companies); absent until one succeeded.",
    labelNames: ['environment', 'subject_type'] as const,
    registers: [this.registry],
  });

  constructor(private readonly readers: MetricReaders) {
    collectDefaultMetrics({ register: this.registry });
    this.contentType = this.registry.contentType;
  }

  observeRequest = (operationId: string, status: string, seconds: number): void => {
    this.httpDuration.observe({ operationId, status }, seconds);
  };

  observeKsefCall = (call: { environment: string; endpoint: string; status: string; seconds: number }): void => {
    this.ksefDuration.observe({ environment: call.environment, endpoint: call.endpoint, status: call.status }, call.seconds);
  };

  observePdfRender = (seconds: number, outcome: 'ok' | 'error'): void => {
    this.pdfDuration.observe({ outcome }, seconds);
  };

  /** The exposition text; the database gauges are read first, each set whole between two awaits. */
  async scrape(): Promise<string> {
    const [outbox, sync] = await Promise.all([this.readers.outbox(), this.readers.sync()]);
    const now = Date.now();
    const age = (since: Date | null) => (since ? Math.max(0, (now - since.getTime()) / 1000) : 0);
    this.outboxInvoices.reset();
    this.oldestQueued.reset();
    for (const r of outbox) {
      this.outboxInvoices.set({ environment: r.environment, status: r.status }, r.invoices);
      if (r.status === 'queued') this.oldestQueued.set({ environment: r.environment }, age(r.oldestCreatedAt));
    }
    this.syncLag.reset();
    for (const r of sync) this.syncLag.set({ environment: r.environment, subject_type: r.subjectType }, age(r.lastSuccessAt));
    return this.registry.metrics();
  }
}
