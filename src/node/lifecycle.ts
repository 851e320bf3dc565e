/**
 * The services' lifecycle (js-libp2p's Startable): each service starts and stops; the composition
 * root starts them in order and stops them in reverse. If one fails to start, the ones already
 * started are stopped (in reverse) before the error goes on, so nothing is left half running.
 */

/** A service with a lifecycle. */
export interface Startable {
  /** A name for logs and errors. */
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** Why starting failed: the service that failed, and any error from stopping the others. */
export class StartError extends Error {
  constructor(
    readonly service: string,
    override readonly cause: unknown,
    readonly stopErrors: readonly { service: string; error: unknown }[],
  ) {
    super(`${service} failed to start: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StartError";
  }
}

/** Starts `services` in order; on a failure, stops the started ones in reverse and throws StartError. */
export async function startAll(services: readonly Startable[]): Promise<void> {
  const started: Startable[] = [];
  for (const s of services) {
    try {
      await s.start();
    } catch (err) {
      const stopErrors = await stopAll(started);
      throw new StartError(s.name, err, stopErrors);
    }
    started.push(s);
  }
}

/**
 * Stops `services` in reverse order. Every service is asked to stop even if an earlier one fails;
 * the failures are returned, not thrown, so a shutdown always runs to the end.
 */
export async function stopAll(
  services: readonly Startable[],
): Promise<{ service: string; error: unknown }[]> {
  const errors: { service: string; error: unknown }[] = [];
  for (const s of [...services].reverse()) {
    try {
      await s.stop();
    } catch (error) {
      errors.push({ service: s.name, error });
    }
  }
  return errors;
}
