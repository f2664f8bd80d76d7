/**
 * A background pass run over and over: again at once while it finds work (a backlog drains fast), else after
 * `intervalMs` (0: never started). `stop` waits for the pass under way, at most `timeoutMs`.
 */
export class WorkerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    /** One pass; answers how many items it worked on. */
    private readonly pass: () => Promise<number>,
    private readonly intervalMs: number,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    if (this.intervalMs === 0 || !this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      let worked = 0;
      try {
        worked = await this.pass();
      } catch (err) {
        this.onError(err as Error);
      }
      if (!this.stopped) this.timer = setTimeout(() => (this.running = loop()), worked > 0 ? 50 : this.intervalMs);
    };
    this.timer = setTimeout(() => (this.running = loop()), 0);
  }

  async stop(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!Number.isFinite(timeoutMs)) return void (await this.running);
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }
}
