// The one way tests wait: for a condition (polled) or for time to pass.

export interface WaitOptions {
  /** Milliseconds before giving up (default 15 s). */
  timeout?: number;
  /** Milliseconds between two probes (default 50). */
  interval?: number;
  /** What is awaited, for the timeout's message ("the import of song.mp3"). */
  what?: string;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns something other than undefined or false, and returns that. An error the
 * probe throws ends the wait at once (a process that died will not become healthy).
 */
export async function waitUntil<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeout = 15_000, interval = 50, what = "a condition" } = options;
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}
