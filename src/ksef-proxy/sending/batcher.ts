import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

type Waiting<I, O> = { item: I; resolve: (value: O) => void; reject: (err: unknown) => void };

/**
 * Group commit for short, independent statements. A batch starts at the end of the current turn of the
 * event loop (setImmediate: after the I/O callbacks already due, e.g. other requests that arrived
 * meanwhile) once nothing of its kind is in flight and a database connection is free, and it takes every
 * item waiting at that moment (within `limits`). A lone caller waits for nothing but that turn's end;
 * concurrent callers - arriving in the same turn, during a statement, or while the connection is busy -
 * share one statement. Every item is written by a statement that starts after it was submitted and has
 * committed when `submit` resolves.
 *
 * `run` gets the items and a connection, and answers one result per item, in order, or throws: then each
 * item of the batch is tried again on its own, in submission order, so one bad item cannot fail the others.
 */
export class Batcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  /** A batch is scheduled or running. */
  private inFlight = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly run: (items: I[], connection: Kysely<Database>) => Promise<O[]>,
    private readonly limits: { maxItems: number; maxBytes?: number; bytes?: (item: I) => number } = { maxItems: 64 },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    setImmediate(() => this.start());
  }

  private start(): void {
    let started = false;
    const batch = this.db.connection().execute((connection) => {
      started = true;
      // The items are taken once the connection is ours: what arrived meanwhile goes along.
      return this.execute(this.take(), connection);
    });
    void batch
      .catch((err: unknown) => {
        // No connection to be had: the callers waiting for it learn why.
        if (!started) for (const waiting of this.take()) waiting.reject(err);
      })
      .finally(() => {
        this.inFlight = false;
        this.pump();
      });
  }

  /** The next batch: up to `maxItems` items and `maxBytes` (at least one item, whatever its size). */
  private take(): Waiting<I, O>[] {
    const { maxItems, maxBytes = Infinity, bytes } = this.limits;
    let count = 0;
    let total = 0;
    while (count < this.queue.length && count < maxItems) {
      total += bytes ? bytes(this.queue[count].item) : 0;
      if (count > 0 && total > maxBytes) break;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async execute(batch: Waiting<I, O>[], connection: Kysely<Database>): Promise<void> {
    if (batch.length > 1) {
      let results: O[] | undefined;
      try {
        results = await this.run(batch.map((b) => b.item), connection);
      } catch {
        // Tried below, item by item: each caller gets its own result or error.
      }
      if (results) return batch.forEach((b, i) => b.resolve(results[i]));
    }
    for (const b of batch) {
      try {
        b.resolve((await this.run([b.item], connection))[0]);
      } catch (err) {
        b.reject(err);
      }
    }
  }
}
