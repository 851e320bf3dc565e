/**
 * A typed event bus (lodestar's network/events.ts pattern): one map from namespaced event names
 * ("pulse.final") to payload types, so an emitter can only send an event's own payload and a
 * listener receives exactly that type. Services talk through it instead of importing each other.
 * A listener that throws never stops the emitter or the other listeners: its error goes to `onError`.
 */

/** Listener of one event. */
export type Listener<P> = (payload: P) => void;

/** A bus over the event map `E` (event name -> payload type). */
export class TypedBus<E extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();

  /** @param onError receives what a listener threw, with the event's name. */
  constructor(private readonly onError: (err: unknown, event: keyof E) => void) {}

  /** Calls `fn` on each `event` until the returned function is called. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as Listener<never>);
    return () => {
      set.delete(fn as Listener<never>);
      if (set.size === 0 && this.listeners.get(event) === set) this.listeners.delete(event);
    };
  }

  /** Calls `fn` on the next `event` only. */
  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, (p) => {
      off();
      fn(p);
    });
    return off;
  }

  /** The next `event`'s payload; rejects with the signal's reason if it aborts first. */
  next<K extends keyof E>(event: K, signal?: AbortSignal): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        off();
        reject(signal!.reason);
      };
      const off = this.once(event, (p) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(p);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Delivers `payload` to every listener of `event`, synchronously, in subscription order. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    // A copy: listeners that unsubscribe (or subscribe) while being called do not disturb the loop.
    for (const fn of [...set]) {
      try {
        (fn as Listener<E[K]>)(payload);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
