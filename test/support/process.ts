import { type ChildProcess, spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const requireFrom = createRequire(import.meta.url);

/** Every process below `pid` (Linux `pgrep -P`), deepest first. */
function descendants(pid: number | undefined): number[] {
  if (!pid) return [];
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
  return children.flatMap((c) => [...descendants(c), c]);
}

/** Our server as a separate OS process (`src/main.ts` through tsx), for crash and multi-process tests. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL: no shutdown, no cleanup — a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** The `url` of the start-up log line (pino: `{"level":30,…,"url":"http://…","msg":"Fast KSeF listening"}`). */
function listeningUrl(output: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"Fast KSeF listening"')) continue;
    try {
      return (JSON.parse(line) as { url: string }).url;
    } catch {
      // the line is not complete yet
    }
  }
  return undefined;
}

/** `source`: src/main.ts through tsx (tests); `compiled`: dist/src/main.js with plain node (run `make build` first). */
export async function spawnServer(env: Record<string, string>, entry: 'source' | 'compiled' = 'source'): Promise<ServerProcess> {
  const args = entry === 'source' ? [requireFrom.resolve('tsx/cli'), 'src/main.ts'] : ['dist/src/main.js'];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.on('data', (d) => chunks.push(String(d)));
  child.stderr!.on('data', (d) => chunks.push(String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: the first start creates the embedded database (initdb) and tsx compiles the source, on a loaded CI machine.
    const timer = setTimeout(() => reject(new Error(`server did not start within 180 s:\n${chunks.join('')}`)), 180_000);
    const onData = () => {
      const url = listeningUrl(chunks.join(''));
      if (url) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(url);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${chunks.join('')}`));
    });
  });
  return {
    url,
    child,
    output: () => chunks.join(''),
    async kill() {
      // tsx runs the server in a child process and only relays signals it can catch: SIGKILL the real server
      // (its descendants) too, or it lives on as an orphan and the "crash" never happens.
      for (const pid of descendants(child.pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
