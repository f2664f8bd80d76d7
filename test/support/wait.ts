/** Polls `probe` until it gives a truthy value (returned) or `ms` pass (an error naming `what`). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 30_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
