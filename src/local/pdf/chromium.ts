/**
 * Starting and stopping the system Chromium. Puppeteer never downloads a browser here
 * (package.json "puppeteer.skipDownload"); we point it at the Debian `chromium` package.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { Browser } from 'puppeteer';
import { PdfUnavailableError } from './errors.js';

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Debian's `chromium-headless-shell` (same Chromium, the old headless mode built for automation)
 * prints about 3x faster than the full browser's headless mode, so it is preferred when installed.
 * The binary itself, not /usr/bin's wrapper script: the wrapper does not exec, so the process we
 * would supervise (and kill) would be `sh`, not the browser.
 */
const HEADLESS_SHELL_PATH = '/usr/lib/chromium/chromium-headless-shell';

export function resolveExecutablePath(explicit?: string): string {
  return (
    explicit ||
    process.env.PUPPETEER_EXECUTABLE_PATH ||
    process.env.CHROMIUM_PATH ||
    (fs.existsSync(HEADLESS_SHELL_PATH) ? HEADLESS_SHELL_PATH : DEFAULT_CHROMIUM_PATH)
  );
}

const isHeadlessShell = (executablePath: string): boolean => path.basename(executablePath).includes('headless-shell');

/**
 * The headless shell runs browser, renderers and GPU work in one process: measured with two pages printing,
 * the process tree's RSS is 260 MB instead of 718 MB over 8 processes (the same shared pages counted in each).
 * A crash then takes the whole browser down, which the renderer already survives by launching a new one.
 */
const ONE_PROCESS_FLAGS = ['--single-process', '--no-zygote'];

/** Nothing we print needs the network, sync, updates or a GPU. */
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
  '--hide-scrollbars',
  '--font-render-hinting=none',
];

/** Containers often mount a 64 MB /dev/shm, too small for Chromium's shared memory: use /tmp there. */
function smallDevShm(): boolean {
  try {
    const s = fs.statfsSync('/dev/shm');
    return s.blocks * s.bsize < 512 * 1024 * 1024;
  } catch {
    return true;
  }
}

export interface LaunchedChromium {
  browser: Browser;
  userDataDir: string;
  pid: number | undefined;
  /** Set by the first stopChromium(); later calls wait for the same shutdown. */
  stopping?: Promise<void>;
}

/** Why `executablePath` cannot be launched (missing, not executable), or null when it can be tried. */
export function executableProblem(executablePath: string): string | null {
  try {
    fs.accessSync(executablePath, fs.constants.X_OK);
    return null;
  } catch {
    return fs.existsSync(executablePath)
      ? `Chromium at ${executablePath} is not executable`
      : `Chromium not found at ${executablePath}: install it (Debian: apt-get install chromium) or set PUPPETEER_EXECUTABLE_PATH / CHROMIUM_PATH`;
  }
}

export async function launchChromium(executablePath: string, opts: { launchTimeoutMs: number; protocolTimeoutMs: number }): Promise<LaunchedChromium> {
  const problem = executableProblem(executablePath);
  if (problem) throw new PdfUnavailableError(problem);
  const userDataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'fast-ksef-chromium-'));
  try {
    const browser = await puppeteer.launch({
      executablePath,
      headless: isHeadlessShell(executablePath) ? 'shell' : true,
      pipe: true,
      args: [
        ...BASE_FLAGS,
        ...(isHeadlessShell(executablePath) ? ONE_PROCESS_FLAGS : []),
        ...(smallDevShm() ? ['--disable-dev-shm-usage'] : []),
        `--user-data-dir=${userDataDir}`,
      ],
      timeout: opts.launchTimeoutMs,
      protocolTimeout: opts.protocolTimeoutMs,
      // The server owns signal handling and calls close(); puppeteer still kills Chromium on process exit.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    return { browser, userDataDir, pid: browser.process()?.pid };
  } catch (e) {
    await removeDir(userDataDir);
    throw new PdfUnavailableError(`Chromium did not start (${executablePath}): ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Closes Chromium (killing it when it does not close within `graceMs`), waits for it to exit and
 * removes its profile directory. Idempotent.
 */
export function stopChromium(c: LaunchedChromium, graceMs = 2000): Promise<void> {
  c.stopping ??= (async () => {
    if (c.browser.connected && graceMs > 0) await within(c.browser.close().catch(() => undefined), graceMs);
    killProcess(c);
    await exited(c, 5000);
    await removeDir(c.userDataDir);
  })();
  return c.stopping;
}

function within(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void p.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Resolves once the browser process has exited (or after `ms`, not to hang a shutdown). */
function exited(c: LaunchedChromium, ms: number): Promise<void> {
  const proc = c.browser.process();
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return within(new Promise((resolve) => proc.once('exit', resolve)), ms);
}

/** Kills Chromium's whole process group (puppeteer starts it as a group leader), so no child outlives it. */
export function killProcess(c: LaunchedChromium): void {
  const proc = c.browser.process();
  if (!proc?.pid) return;
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function removeDir(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 }).catch(() => undefined);
}
