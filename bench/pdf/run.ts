/**
 * PDF benchmark (issue 5): `npx tsx bench/pdf/run.ts [--renders N] [--memory-renders N]`
 *
 * Renders ../shared/ksef/samples/fa3-vat.xml (with its KOD I) through the full path the API uses
 * (XML -> HTML -> PDF) and prints:
 *   - warm renders/s and p50/p95 at concurrency 1 and 4 (one warm Chromium, default pool of 2 pages)
 *   - a cold browser launch per render, and the warm/cold ratio
 *   - a cached repeat (same XML bytes, KSeF number, language, variant)
 *   - peak RSS of Node + Chromium, and memory sampled over 1,000 renders
 * Goals: warm p50 <= 130 ms, warm >= 8x faster than cold, cached repeat <= 5 ms, memory flat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer';
import QRCode from 'qrcode';
import { PdfRenderer, renderInvoicePdf, resolveExecutablePath } from '../../src/local/pdf/index.js';
import { RenderInvoiceOptions, renderInvoiceHtml } from '../../src/local/render/index.js';
import { withPageSetup } from '../../src/local/pdf/page-setup.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const WARM_RENDERS = arg('renders', 200);
const COLD_RENDERS = arg('cold-renders', 8);
const CACHED_REPEATS = arg('cached-repeats', 2000);
const MEMORY_RENDERS = arg('memory-renders', 1000);

const sharedDir = path.resolve(process.env.KSEF_SHARED_DIR ?? path.join(import.meta.dirname, '..', '..', '..', 'shared'));
const XML = fs.readFileSync(path.join(sharedDir, 'ksef', 'samples', 'fa3-vat.xml'));
const KSEF_NUMBER = '5265877635-20260202-010000F1E2D3-DC';
const KOD_I = 'https://qr-test.ksef.mf.gov.pl/invoice/5265877635/02-02-2026/qCezuL3iwedb58monMMu5EfIMsZSkhf03yKG0bMKoB4';

// Memory -------------------------------------------------------------------------------------------

/** Proportional set size (KiB) of a process, falling back to RSS where smaps_rollup is unavailable. */
function memoryKiB(pid: number): number {
  try {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const pss = /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (pss) return Number(pss[1]);
  } catch {
    // fall through
  }
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Chromium's whole process tree: browser, renderers, GPU/utility processes (zygotes included). */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // process ended meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parents) if (ppid === out[i]) out.push(pid);
  return out;
}

interface MemorySample {
  nodeRssMiB: number;
  nodeHeapMiB: number;
  chromiumMiB: number;
  totalMiB: number;
}

function sampleMemory(renderer: PdfRenderer): MemorySample {
  const pid = renderer.stats.browserPid;
  const chromium = pid ? descendants(pid).reduce((sum, p) => sum + memoryKiB(p), 0) / 1024 : 0;
  const m = process.memoryUsage();
  const nodeRss = m.rss / 1024 / 1024;
  return { nodeRssMiB: nodeRss, nodeHeapMiB: m.heapUsed / 1024 / 1024, chromiumMiB: chromium, totalMiB: nodeRss + chromium };
}

let peakMiB = 0;
const notePeak = (s: MemorySample): void => {
  peakMiB = Math.max(peakMiB, s.totalMiB);
};

// Timing -------------------------------------------------------------------------------------------

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

interface RunResult {
  latencies: number[];
  wallMs: number;
}

async function runAtConcurrency(total: number, concurrency: number, once: () => Promise<unknown>): Promise<RunResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t = performance.now();
        await once();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), wallMs: performance.now() - started };
}

const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(0));

// Main ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const svg = await QRCode.toString(KOD_I, { type: 'svg', errorCorrectionLevel: 'M' });
  const options: RenderInvoiceOptions = { ksefNumber: KSEF_NUMBER, qr: { kodI: { link: KOD_I, caption: KSEF_NUMBER, svg } } };
  const rows: [string, string, string, string, string][] = [];
  const row = (name: string, r: RunResult | undefined, extra = ''): void => {
    if (!r) return;
    rows.push([
      name,
      String(r.latencies.length),
      ((r.latencies.length / r.wallMs) * 1000).toFixed(1),
      `${ms(percentile(r.latencies, 50))} / ${ms(percentile(r.latencies, 95))}`,
      extra,
    ]);
  };

  console.log(`Chromium: ${resolveExecutablePath()}  Node ${process.version}  CPUs: ${os.cpus().length}`);
  console.log(`Document: fa3-vat.xml with KOD I (${XML.length} bytes)\n`);

  // Warm: one browser, default pool. No cache key, so every call really renders (XML -> HTML -> PDF).
  const warm = new PdfRenderer();
  const render = () => warm.htmlToPdf(renderInvoiceHtml(XML, options));
  await warm.warmUp();
  await runAtConcurrency(20, 2, render); // JIT, fonts, page pool
  notePeak(sampleMemory(warm));
  const warm1 = await runAtConcurrency(WARM_RENDERS, 1, render);
  notePeak(sampleMemory(warm));
  const warm4 = await runAtConcurrency(WARM_RENDERS, 4, render);
  notePeak(sampleMemory(warm));
  row('warm, concurrency 1', warm1, 'pool 2 pages');
  row('warm, concurrency 4', warm4, 'pool 2 pages; includes queueing');

  // Cold: what rendering costs without the pool — launch Chromium, print once, close.
  const document = withPageSetup(renderInvoiceHtml(XML, options), { landscape: false, footerLang: 'pl' });
  const cold = await runAtConcurrency(COLD_RENDERS, 1, async () => {
    const browser = await puppeteer.launch({
      executablePath: resolveExecutablePath(),
      headless: resolveExecutablePath().includes('headless-shell') ? 'shell' : true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.setContent(document, { waitUntil: 'load' });
      await page.pdf({ preferCSSPageSize: true, printBackground: true });
    } finally {
      await browser.close();
    }
  });
  const ratio = percentile(cold.latencies, 50) / percentile(warm1.latencies, 50);
  row('cold launch per render', cold, `warm is ${ratio.toFixed(1)}x faster (p50)`);

  // Cached repeat: same bytes, KSeF number, language and variant.
  const cachedRenderer = new PdfRenderer();
  await cachedRenderer.warmUp();
  await renderInvoicePdf(cachedRenderer, XML, options);
  const cached = await runAtConcurrency(CACHED_REPEATS, 1, () => renderInvoicePdf(cachedRenderer, XML, options));
  row('cached repeat', cached, `${cachedRenderer.stats.cacheHits} hits, ${cachedRenderer.stats.renders} render`);
  await cachedRenderer.close();

  // Memory over many renders (concurrency 2: the pool size).
  const samples: [number, MemorySample][] = [[0, sampleMemory(warm)]];
  const every = Math.max(1, Math.floor(MEMORY_RENDERS / 10));
  let done = 0;
  await runAtConcurrency(MEMORY_RENDERS, 2, async () => {
    await render();
    done++;
    if (done % every === 0) {
      const s = sampleMemory(warm);
      notePeak(s);
      samples.push([done, s]);
    }
  });
  const stats = warm.stats;
  await warm.close();

  // Report -----------------------------------------------------------------------------------------
  const widths = [24, 8, 10, 17, 0];
  const line = (cells: string[]): string => cells.map((c, i) => (widths[i] ? c.padEnd(widths[i]) : c)).join(' ');
  console.log(line(['scenario', 'renders', 'per sec', 'p50 / p95 ms', 'notes']));
  console.log(line(['-'.repeat(23), '-'.repeat(7), '-'.repeat(9), '-'.repeat(16), '-'.repeat(5)]));
  for (const r of rows) console.log(line(r));

  console.log(`\nmemory over ${MEMORY_RENDERS} renders (MiB; Chromium = PSS of its whole process tree)`);
  console.log(line(['after renders', 'node rss', 'node heap', 'chromium', 'total']));
  for (const [n, s] of samples) {
    console.log(line([String(n), s.nodeRssMiB.toFixed(0), s.nodeHeapMiB.toFixed(0), s.chromiumMiB.toFixed(0), s.totalMiB.toFixed(0)]));
  }
  // Averages of the first and last three samples after the start, so one GC cycle does not decide.
  const mean = (xs: [number, MemorySample][]): number => xs.reduce((sum, [, s]) => sum + s.totalMiB, 0) / xs.length;
  const earlySamples = samples.slice(1, 4);
  const lateSamples = samples.slice(-3);
  const growth = ((mean(lateSamples) - mean(earlySamples)) / mean(earlySamples)) * 100;
  console.log(`\npeak RSS (node + chromium): ${peakMiB.toFixed(0)} MiB; launches ${stats.launches}, renders ${stats.renders}, failures ${stats.failures}`);

  const p50 = percentile(warm1.latencies, 50);
  const cachedP50 = percentile(cached.latencies, 50);
  const goals: [string, boolean][] = [
    [`warm p50 ${ms(p50)} ms <= 130 ms`, p50 <= 130],
    [`warm ${ratio.toFixed(1)}x faster than cold >= 8x`, ratio >= 8],
    [`cached repeat p50 ${ms(cachedP50)} ms <= 5 ms`, cachedP50 <= 5],
    [
      `memory flat: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% from renders ${earlySamples[0][0]}-${earlySamples[earlySamples.length - 1][0]} ` +
        `to ${lateSamples[0][0]}-${lateSamples[lateSamples.length - 1][0]} (<= 10%)`,
      growth <= 10,
    ],
  ];
  console.log('\ngoals');
  for (const [text, ok] of goals) console.log(`  ${ok ? 'PASS' : 'MISS'}  ${text}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
