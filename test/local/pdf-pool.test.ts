/**
 * The browser pool under stress: Chromium killed mid-render, many renders at once, a full queue,
 * a render past its deadline, pages that try to reach the network, and shutdown.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PdfBusyError, PdfClosedError, PdfRenderer, PdfTimeoutError } from '../../src/local/pdf/index.js';

const run = promisify(execFile);

async function pdfText(pdf: Buffer): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pdf-pool-test-'));
  try {
    const file = path.join(dir, 'doc.pdf');
    await fs.promises.writeFile(file, pdf);
    return (await run('pdftotext', ['-enc', 'UTF-8', file, '-'])).stdout.replace(/\s+/g, ' ');
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

const page = (marker: string) => `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1>${marker}</h1><p>Zażółć gęślą jaźń</p></body></html>`;

/** A document whose print takes seconds (thousands of table rows over ~100 pages). */
const heavy = (marker: string, rows: number) =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1>${marker}</h1><table>${Array.from(
    { length: rows },
    (_, i) => `<tr><td>${i}</td><td>Pozycja ${i} żółć</td><td>${i},00</td></tr>`,
  ).join('')}</table></body></html>`;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('PdfRenderer pool', () => {
  it('Chromium killed mid-render: the render is retried on a fresh browser and the next one succeeds', async () => {
    const renderer = new PdfRenderer();
    try {
      await renderer.warmUp();
      const pid = renderer.stats.browserPid as number;
      expect(isAlive(pid)).toBe(true);
      const inFlight = renderer.htmlToPdf(heavy('HEAVY-KILLED', 5000));
      await until(() => renderer.stats.active === 1, 'the render to start');
      await new Promise((r) => setTimeout(r, 300));
      process.kill(pid, 'SIGKILL');

      const survived = await inFlight;
      expect(await pdfText(survived)).toContain('HEAVY-KILLED');
      expect(renderer.stats.retries).toBe(1);
      expect(renderer.stats.launches).toBe(2);
      expect(renderer.stats.browserPid).not.toBe(pid);
      await until(() => !isAlive(pid), 'the killed Chromium to be gone');

      const next = await renderer.htmlToPdf(page('AFTER-CRASH'));
      expect(await pdfText(next)).toContain('AFTER-CRASH');
      expect(renderer.stats.launches).toBe(2);
    } finally {
      await renderer.close();
    }
  });

  it('Chromium dead between renders: the next render relaunches it', async () => {
    const renderer = new PdfRenderer();
    try {
      expect(await pdfText(await renderer.htmlToPdf(page('FIRST')))).toContain('FIRST');
      const pid = renderer.stats.browserPid as number;
      process.kill(pid, 'SIGKILL');
      await until(() => !isAlive(pid), 'Chromium to die');
      expect(await pdfText(await renderer.htmlToPdf(page('SECOND')))).toContain('SECOND');
      expect(renderer.stats.launches).toBe(2);
      expect(renderer.stats.failures).toBe(0);
    } finally {
      await renderer.close();
    }
  });

  it('20 renders at once all succeed; running renders and open pages stay within the bound', async () => {
    const renderer = new PdfRenderer({ poolSize: 2 });
    try {
      const markers = Array.from({ length: 20 }, (_, i) => `DOC-${String(i).padStart(2, '0')}-MARK`);
      const pdfs = await Promise.all(markers.map((m) => renderer.htmlToPdf(page(m))));
      const texts = await Promise.all(pdfs.map(pdfText));
      texts.forEach((t, i) => {
        expect(t).toContain(markers[i]);
        expect(t).toContain('Zażółć gęślą jaźń');
      });
      const s = renderer.stats;
      expect(s.renders).toBe(20);
      expect(s.launches).toBe(1);
      expect(s.maxActive).toBe(2);
      expect(s.maxPagesOpen).toBeLessThanOrEqual(2);
      expect(s.maxQueued).toBe(18);
      expect(s.active).toBe(0);
      expect(s.queued).toBe(0);
    } finally {
      await renderer.close();
    }
  });

  it('identical cached renders in flight share one render', async () => {
    const renderer = new PdfRenderer();
    try {
      const all = await Promise.all(Array.from({ length: 5 }, () => renderer.htmlToPdf(page('SHARED'), { cacheKey: 'k1' })));
      expect(all.every((b) => b.equals(all[0]))).toBe(true);
      expect(renderer.stats.renders).toBe(1);
    } finally {
      await renderer.close();
    }
  });

  it('beyond maxQueue waiting renders, further ones fail fast with PdfBusyError', async () => {
    const renderer = new PdfRenderer({ poolSize: 1, maxQueue: 2 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => renderer.htmlToPdf(page(`Q${i}`))));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
      for (const r of results.slice(3)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PdfBusyError);
    } finally {
      await renderer.close();
    }
  });

  it('a render past its deadline fails with PdfTimeoutError; Chromium is restarted and the next render works', async () => {
    const renderer = new PdfRenderer({ renderTimeoutMs: 4000 });
    try {
      await renderer.warmUp();
      await expect(renderer.htmlToPdf(heavy('TOO-SLOW', 30000))).rejects.toBeInstanceOf(PdfTimeoutError);
      expect(renderer.stats.timeouts).toBe(1);
      expect(await pdfText(await renderer.htmlToPdf(page('AFTER-TIMEOUT')))).toContain('AFTER-TIMEOUT');
      expect(renderer.stats.launches).toBe(2);
    } finally {
      await renderer.close();
    }
  });

  it('a render that cannot get a page within queueTimeoutMs fails with PdfTimeoutError; the running one is unharmed', async () => {
    const renderer = new PdfRenderer({ poolSize: 1, queueTimeoutMs: 300 });
    try {
      const slow = renderer.htmlToPdf(heavy('SLOW-BUT-FINE', 5000));
      await expect(renderer.htmlToPdf(page('NO-SLOT'))).rejects.toThrow(/no free PDF page within 300 ms/);
      expect(await pdfText(await slow)).toContain('SLOW-BUT-FINE');
      expect(renderer.stats.launches).toBe(1);
      expect(renderer.stats.queued).toBe(0);
    } finally {
      await renderer.close();
    }
  });

  it('pages reach no network and run no scripts', async () => {
    let requests = 0;
    const server = http.createServer((_req, res) => {
      requests++;
      res.end('body{color:red}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const renderer = new PdfRenderer();
    try {
      const html =
        `<!DOCTYPE html><html><head><link rel="stylesheet" href="${base}/a.css"><style>@import url("${base}/b.css");</style></head>` +
        `<body><p id="p">STATIC</p><img src="${base}/c.png"><iframe src="${base}/d.html"></iframe>` +
        `<script>document.getElementById('p').textContent = 'SCRIPTED'</script></body></html>`;
      const text = await pdfText(await renderer.htmlToPdf(html));
      expect(text).toContain('STATIC');
      expect(text).not.toContain('SCRIPTED');
      expect(requests).toBe(0);
    } finally {
      await renderer.close();
      server.close();
    }
  });

  it('close() stops Chromium and refuses further work', async () => {
    const renderer = new PdfRenderer();
    await renderer.warmUp();
    const pid = renderer.stats.browserPid as number;
    await renderer.close();
    await until(() => !isAlive(pid), 'Chromium to exit');
    await expect(renderer.htmlToPdf(page('LATE'))).rejects.toBeInstanceOf(PdfClosedError);
  });

  it('closes Chromium after idleCloseMs without a render, and the next render launches it again', async () => {
    const renderer = new PdfRenderer({ idleCloseMs: 1500 });
    try {
      const first = await renderer.htmlToPdf(page('FIRST'));
      const pid = renderer.stats.browserPid as number;
      expect(isAlive(pid)).toBe(true);
      expect(await pdfText(first)).toContain('FIRST');
      await until(() => !isAlive(pid), 'idle Chromium to exit');
      expect(renderer.stats.browserPid).toBeUndefined();
      expect(await pdfText(await renderer.htmlToPdf(page('AGAIN')))).toContain('AGAIN');
      expect(renderer.stats.launches).toBe(2);
      expect(renderer.stats.browserPid).not.toBe(pid);
    } finally {
      await renderer.close();
    }
  });

  it('rejects nonsense options', () => {
    expect(() => new PdfRenderer({ poolSize: 0 })).toThrow(/poolSize/);
    expect(() => new PdfRenderer({ renderTimeoutMs: -1 })).toThrow(/renderTimeoutMs/);
  });
});
