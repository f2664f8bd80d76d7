/**
 * HTML -> PDF with one warm Chromium per renderer and a small pool of reusable pages.
 *
 * Why each piece exists:
 * - launching Chromium costs ~1 s, so it is launched once and kept; a page is reused across renders;
 * - a render holds one page; at most `maxConcurrency` run at once and at most `maxQueue` wait, the
 *   rest fail fast with PdfBusyError (bounded memory under load);
 * - every render has a deadline (`renderTimeoutMs`); a miss restarts Chromium, because the abandoned
 *   work keeps the browser (and its shared print compositor) busy and would slow every later render;
 *   renders caught by that restart are retried like after a crash;
 * - when Chromium dies the next render relaunches it, and a render caught by the crash is retried
 *   once on the fresh browser, so callers do not see the crash;
 * - the document is printed straight from `setContent` (no network: requests other than data: URLs
 *   are aborted, scripts are off) through one `Page.printToPDF` call returning the bytes;
 * - PDFs are immutable for a cache key, so repeats come from a bounded LRU, and identical renders
 *   in flight share one result.
 */
import type { CDPSession, Page } from 'puppeteer';
import type { Lang } from '../render/index.js';
import { executableProblem, LaunchedChromium, launchChromium, resolveExecutablePath, stopChromium } from './chromium.js';
import { PdfBrowserCrashedError, PdfBusyError, PdfClosedError, PdfError, PdfTimeoutError } from './errors.js';
import { LRUCache } from 'lru-cache';
import { withPageSetup } from './page-setup.js';

export interface PdfRendererOptions {
  /** Chromium binary; default PUPPETEER_EXECUTABLE_PATH, CHROMIUM_PATH, then /usr/bin/chromium. */
  executablePath?: string;
  /** Pages kept open for reuse (default 2). */
  poolSize?: number;
  /** Renders running at once (default: poolSize). */
  maxConcurrency?: number;
  /** Deadline of one render, from taking a page (launching Chromium if needed) to having the bytes (default 15000). */
  renderTimeoutMs?: number;
  /** Cached PDFs (default 200); 0 disables the cache. */
  cacheEntries?: number;
  /** Total bytes of cached PDFs (default 64 MiB). */
  cacheMaxBytes?: number;
  /** Renders allowed to wait for a free slot before PdfBusyError (default 500). */
  maxQueue?: number;
  /** Longest wait for a free slot before PdfTimeoutError (default: renderTimeoutMs). */
  queueTimeoutMs?: number;
  /**
   * A page (and its renderer process) is replaced after this many renders (default 2000). Memory is
   * flat without it (a renderer settles at ~140 MiB); this only bounds what a weeks-long process could
   * accumulate in Chromium itself.
   */
  recyclePageAfter?: number;
  /** Deadline of a Chromium launch (default 30000). */
  launchTimeoutMs?: number;
  /**
   * Chromium is closed after this long without a render (its processes cost ~150 MB+ idle) and launched again
   * by the next one; 0 (default) keeps it running.
   */
  idleCloseMs?: number;
  /** Told how long each render took (cache hits and shared in-flight renders are not renders); must not throw. */
  observeRender?: PdfRenderObserver;
}

export type PdfRenderObserver = (seconds: number, outcome: 'ok' | 'error') => void;

/** Whether a PDF could be rendered now, without launching Chromium to find out. */
export interface PdfEngineState {
  ok: boolean;
  /** `running`: a browser is up; `launchable`: none is, its executable is there to start. */
  state: 'running' | 'launchable' | 'missing' | 'closed';
  message: string;
}

export interface HtmlToPdfOptions {
  landscape?: boolean;
  /** Immutable identity of the result (e.g. from invoicePdfCacheKey); repeats are served from memory. */
  cacheKey?: string;
  /** Language of the page numbers: "1 z 2" (pl, default) or "1 of 2" (en). */
  footerLang?: Lang;
}

export interface PdfRendererStats {
  /** Chromium launches so far (1 after warm-up; +1 per crash or forced restart). */
  launches: number;
  /** Renders that produced a PDF (cache hits excluded). */
  renders: number;
  failures: number;
  timeouts: number;
  /** Renders retried after Chromium died under them. */
  retries: number;
  cacheHits: number;
  cacheMisses: number;
  cacheEntries: number;
  cacheBytes: number;
  active: number;
  maxActive: number;
  queued: number;
  maxQueued: number;
  pagesOpen: number;
  maxPagesOpen: number;
  browserPid: number | undefined;
}

interface BrowserHandle extends LaunchedChromium {
  generation: number;
}

interface PooledPage {
  page: Page;
  cdp: CDPSession;
  handle: BrowserHandle;
  renders: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const CRASH_MESSAGE = /target closed|session closed|connection closed|crashed|browser has disconnected|detached/i;

export class PdfRenderer {
  private readonly executablePath: string;
  private readonly poolSize: number;
  private readonly maxConcurrency: number;
  private readonly renderTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly queueTimeoutMs: number;
  private readonly recyclePageAfter: number;
  private readonly launchTimeoutMs: number;
  private readonly idleCloseMs: number;
  private readonly observeRender: PdfRenderObserver | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Null when disabled (0 entries). */
  private readonly cache: LRUCache<string, Buffer> | null;
  private readonly inflight = new Map<string, Promise<Buffer>>();

  private current: BrowserHandle | null = null;
  private launching: Promise<BrowserHandle> | null = null;
  private generation = 0;
  private idle: PooledPage[] = [];
  private readonly openPages = new Set<PooledPage>();
  private readonly waiters: Waiter[] = [];
  private active = 0;
  private closed = false;
  private readonly counters = {
    launches: 0,
    renders: 0,
    failures: 0,
    timeouts: 0,
    retries: 0,
    cacheHits: 0,
    cacheMisses: 0,
    maxActive: 0,
    maxQueued: 0,
    maxPagesOpen: 0,
  };

  constructor(options: PdfRendererOptions = {}) {
    this.executablePath = resolveExecutablePath(options.executablePath);
    this.poolSize = positive(options.poolSize, 2, 'poolSize');
    this.maxConcurrency = positive(options.maxConcurrency, this.poolSize, 'maxConcurrency');
    this.renderTimeoutMs = positive(options.renderTimeoutMs, 15_000, 'renderTimeoutMs');
    this.maxQueue = nonNegative(options.maxQueue, 500, 'maxQueue');
    this.queueTimeoutMs = positive(options.queueTimeoutMs, this.renderTimeoutMs, 'queueTimeoutMs');
    this.recyclePageAfter = positive(options.recyclePageAfter, 2000, 'recyclePageAfter');
    this.launchTimeoutMs = positive(options.launchTimeoutMs, 30_000, 'launchTimeoutMs');
    this.idleCloseMs = nonNegative(options.idleCloseMs, 0, 'idleCloseMs');
    this.observeRender = options.observeRender;
    const cacheEntries = nonNegative(options.cacheEntries, 200, 'cacheEntries');
    const cacheMaxBytes = positive(options.cacheMaxBytes, 64 * 1024 * 1024, 'cacheMaxBytes');
    this.cache = cacheEntries > 0 ? new LRUCache<string, Buffer>({ max: cacheEntries, maxSize: cacheMaxBytes, sizeCalculation: (b) => b.length }) : null;
  }

  get stats(): PdfRendererStats {
    return {
      ...this.counters,
      cacheEntries: this.cache?.size ?? 0,
      cacheBytes: this.cache?.calculatedSize ?? 0,
      active: this.active,
      queued: this.waiters.length,
      pagesOpen: this.openPages.size,
      browserPid: this.current?.pid,
    };
  }

  /** A browser already up answers for itself; otherwise the executable is checked, not started. */
  engineState(): PdfEngineState {
    if (this.closed) return { ok: false, state: 'closed', message: 'the PDF renderer is closed' };
    const current = this.current;
    if (current?.browser.connected) return { ok: true, state: 'running', message: 'Chromium is running' };
    const problem = executableProblem(this.executablePath);
    return problem ? { ok: false, state: 'missing', message: problem } : { ok: true, state: 'launchable', message: 'Chromium starts with the first PDF' };
  }

  /** Launches Chromium and opens the page pool ahead of the first request. */
  async warmUp(): Promise<void> {
    const handle = await this.browser();
    const pages = await Promise.all(Array.from({ length: Math.max(0, this.poolSize - this.idle.length) }, () => this.openPage(handle)));
    for (const p of pages) this.releasePage(p);
  }

  /** A cached PDF for the key, if any (a copy: callers may not mutate the cached bytes). */
  cachedPdf(cacheKey: string): Buffer | undefined {
    const hit = this.cache?.get(cacheKey);
    if (!hit) return undefined;
    this.counters.cacheHits++;
    return Buffer.from(hit);
  }

  async htmlToPdf(html: string, opts: HtmlToPdfOptions = {}): Promise<Buffer> {
    if (this.closed) throw new PdfClosedError('PDF renderer is closed');
    const document = withPageSetup(html, { landscape: opts.landscape ?? false, footerLang: opts.footerLang ?? 'pl' });
    const landscape = opts.landscape ?? false;
    const key = opts.cacheKey;
    if (key === undefined) return this.timedRender(document, landscape);

    const hit = this.cachedPdf(key);
    if (hit) return hit;
    const pending = this.inflight.get(key);
    if (pending) return Buffer.from(await pending);
    this.counters.cacheMisses++;
    const task = this.timedRender(document, landscape);
    this.inflight.set(key, task);
    try {
      const pdf = await task;
      if (!this.closed) this.cache?.set(key, pdf);
      return Buffer.from(pdf);
    } finally {
      this.inflight.delete(key);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new PdfClosedError('PDF renderer is closed'));
    }
    this.cache?.clear();
    const launching = this.launching;
    if (launching) await launching.catch(() => undefined);
    const handle = this.current;
    this.current = null;
    this.idle = [];
    this.openPages.clear();
    if (handle) await stopChromium(handle);
  }

  // ---------------------------------------------------------------------------------------------

  private async timedRender(document: string, landscape: boolean): Promise<Buffer> {
    const started = performance.now();
    const observe = (outcome: 'ok' | 'error') => this.observeRender?.((performance.now() - started) / 1000, outcome);
    try {
      const pdf = await this.renderWithRetry(document, landscape);
      observe('ok');
      return pdf;
    } catch (e) {
      observe('error');
      throw e;
    }
  }

  private async renderWithRetry(document: string, landscape: boolean): Promise<Buffer> {
    try {
      return await this.renderOnce(document, landscape);
    } catch (e) {
      if (!(e instanceof PdfBrowserCrashedError) || this.closed) {
        this.counters.failures++;
        throw e;
      }
      this.counters.retries++;
      try {
        return await this.renderOnce(document, landscape);
      } catch (again) {
        this.counters.failures++;
        throw again;
      }
    }
  }

  private async renderOnce(document: string, landscape: boolean): Promise<Buffer> {
    await this.acquireSlot();
    const attempt: { page?: PooledPage; abandoned: boolean } = { abandoned: false };
    let timer: NodeJS.Timeout | undefined;
    const work = (async () => {
      const page = await this.takePage();
      if (attempt.abandoned) {
        this.discardPage(page);
        throw new PdfTimeoutError('abandoned');
      }
      attempt.page = page;
      const pdf = await this.print(page, document, landscape);
      return { page, pdf };
    })();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PdfTimeoutError(`PDF render exceeded ${this.renderTimeoutMs} ms`)), this.renderTimeoutMs);
    });
    try {
      const { page, pdf } = await Promise.race([work, deadline]);
      this.counters.renders++;
      this.releasePage(page);
      return pdf;
    } catch (e) {
      if (e instanceof PdfTimeoutError) {
        attempt.abandoned = true;
        work.catch(() => undefined);
        this.onTimeout(attempt.page);
        throw e;
      }
      if (attempt.page) this.discardPage(attempt.page);
      throw this.classify(e, attempt.page);
    } finally {
      clearTimeout(timer);
      this.releaseSlot();
    }
  }

  /** Errors from a page whose browser or renderer died are retryable crashes; others pass through. */
  private classify(e: unknown, page: PooledPage | undefined): Error {
    if (e instanceof PdfError) return e;
    const err = e instanceof Error ? e : new Error(String(e));
    const browserGone = page !== undefined && (!page.handle.browser.connected || page.handle !== this.current);
    if (browserGone || CRASH_MESSAGE.test(err.message)) {
      return new PdfBrowserCrashedError(`Chromium failed during the render: ${err.message}`, { cause: err });
    }
    return err;
  }

  private onTimeout(page: PooledPage | undefined): void {
    this.counters.timeouts++;
    if (page) this.discardPage(page);
    const handle = page?.handle ?? this.current;
    if (handle) {
      // Closing the page does not stop a print already in Chromium's compositor; a fresh browser does.
      this.forget(handle);
    }
  }

  private async print(p: PooledPage, document: string, landscape: boolean): Promise<Buffer> {
    await p.page.setContent(document, { waitUntil: 'load', timeout: this.renderTimeoutMs });
    // One round trip with the bytes inline: puppeteer's page.pdf() streams through IO.read and
    // produces a tagged PDF, both measurably slower for a one-page invoice.
    const result = await p.cdp.send('Page.printToPDF', {
      landscape,
      printBackground: true,
      preferCSSPageSize: true,
      generateTaggedPDF: false,
      generateDocumentOutline: false,
      transferMode: 'ReturnAsBase64',
    });
    p.renders++;
    return Buffer.from(result.data, 'base64');
  }

  // Slots -------------------------------------------------------------------------------------------

  private acquireSlot(): Promise<void> {
    if (this.closed) return Promise.reject(new PdfClosedError('PDF renderer is closed'));
    clearTimeout(this.idleTimer);
    if (this.active < this.maxConcurrency) {
      this.active++;
      this.counters.maxActive = Math.max(this.counters.maxActive, this.active);
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(new PdfBusyError(`PDF renderer busy: ${this.active} rendering, ${this.waiters.length} waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          this.counters.timeouts++;
          reject(new PdfTimeoutError(`no free PDF page within ${this.queueTimeoutMs} ms (${this.active} rendering)`));
        }, this.queueTimeoutMs),
      };
      this.waiters.push(waiter);
      this.counters.maxQueued = Math.max(this.counters.maxQueued, this.waiters.length);
    });
  }

  /** Hands the slot straight to the next waiter, so `active` never exceeds the bound. */
  private releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    } else {
      this.active--;
      if (this.active === 0 && this.idleCloseMs > 0) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => this.closeIdleBrowser(), this.idleCloseMs);
        this.idleTimer.unref();
      }
    }
  }

  /** No render for `idleCloseMs`: Chromium goes (gracefully); the next render launches a fresh one. */
  private closeIdleBrowser(): void {
    const handle = this.current;
    if (this.active > 0 || this.launching || !handle) return;
    this.current = null;
    this.idle = [];
    for (const p of this.openPages) if (p.handle === handle) this.openPages.delete(p);
    void stopChromium(handle);
  }

  // Browser and pages ------------------------------------------------------------------------------

  private browser(): Promise<BrowserHandle> {
    if (this.closed) return Promise.reject(new PdfClosedError('PDF renderer is closed'));
    const current = this.current;
    if (current && current.browser.connected) return Promise.resolve(current);
    if (!this.launching) {
      this.launching = this.launch().finally(() => {
        this.launching = null;
      });
    }
    return this.launching;
  }

  private async launch(): Promise<BrowserHandle> {
    const dead = this.current;
    if (dead) this.forget(dead);
    const launched = await launchChromium(this.executablePath, {
      launchTimeoutMs: this.launchTimeoutMs,
      protocolTimeoutMs: this.renderTimeoutMs * 2,
    });
    const handle: BrowserHandle = { ...launched, generation: ++this.generation };
    this.counters.launches++;
    if (this.closed) {
      await stopChromium(handle);
      throw new PdfClosedError('PDF renderer is closed');
    }
    handle.browser.once('disconnected', () => this.forget(handle));
    this.current = handle;
    return handle;
  }

  /** Drops a dead (or killed) browser: its pages go, its process is killed, its profile removed. */
  private forget(handle: BrowserHandle): void {
    if (this.current === handle) this.current = null;
    this.idle = this.idle.filter((p) => p.handle !== handle);
    for (const p of this.openPages) if (p.handle === handle) this.openPages.delete(p);
    void stopChromium(handle, 0);
  }

  private async takePage(): Promise<PooledPage> {
    const handle = await this.browser();
    for (let p = this.idle.pop(); p; p = this.idle.pop()) {
      if (p.handle === handle && !p.page.isClosed()) return p;
      this.discardPage(p);
    }
    return this.openPage(handle);
  }

  private async openPage(handle: BrowserHandle): Promise<PooledPage> {
    const page = await handle.browser.newPage();
    const pooled: PooledPage = { page, cdp: await page.createCDPSession(), handle, renders: 0 };
    this.openPages.add(pooled);
    this.counters.maxPagesOpen = Math.max(this.counters.maxPagesOpen, this.openPages.size);
    try {
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        const url = req.url();
        const allowed = url.startsWith('data:') || url === 'about:blank';
        (allowed ? req.continue() : req.abort('blockedbyclient')).catch(() => undefined);
      });
    } catch (e) {
      this.discardPage(pooled);
      throw e;
    }
    return pooled;
  }

  private releasePage(p: PooledPage): void {
    const reusable =
      !this.closed && p.handle === this.current && !p.page.isClosed() && p.renders < this.recyclePageAfter && this.idle.length < this.poolSize;
    if (reusable) this.idle.push(p);
    else this.discardPage(p);
  }

  private discardPage(p: PooledPage): void {
    this.openPages.delete(p);
    this.idle = this.idle.filter((q) => q !== p);
    if (!p.page.isClosed()) p.page.close().catch(() => undefined);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}
