import { setTimeout as sleep } from "node:timers/promises";

/** Polls `fn` (every `everyMs`) until it returns a value other than undefined, or `ms` pass. */
export async function until<T>(
  fn: () => Promise<T | undefined>,
  ms: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${ms} ms (${(last as Error | undefined)?.message ?? "no value"})`);
}
