/**
 * How a member node reaches its organization's bookkeepers: the addresses it knows (saved, newest
 * first), then those the DHT knows now. An address that answers goes first from then on.
 */
import { decodeResponse, NetError } from "../dht/wire.js";
import { findBookkeeper, type NetPort } from "./discovery.js";

/** Addresses of the bookkeeper kept (the newest first). */
const MAX_TARGETS = 16;

/** True if a response says the node does not keep the books. */
function notTheBookkeeper(res: Uint8Array): boolean {
  try {
    decodeResponse(res);
    return false;
  } catch (err) {
    return err instanceof NetError && err.code === "UNAVAILABLE";
  }
}

/** The addresses of one organization's bookkeepers, and requests sent through them. */
export class BookkeeperLink {
  /**
   * @param targets the addresses known, the newest first
   * @param changed called when the list changes (the membership saves it)
   */
  constructor(
    private readonly net: NetPort,
    private readonly org: Buffer,
    private list: string[],
    private readonly changed: () => Promise<void>,
  ) {}

  /** The addresses known, the newest first. */
  get targets(): readonly string[] {
    return this.list;
  }

  /**
   * Sends a request to the bookkeeper and returns the response's bytes: to the known addresses in
   * turn, then, if none is reached, to those the DHT knows now (an address that answers goes first
   * from then on). A node that does not keep the books counts as not reached.
   */
  async forward(request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
    let last: unknown;
    const attempt = async (t: string): Promise<Uint8Array | undefined> => {
      try {
        const res = await this.net.request(t, request, signal);
        if (!notTheBookkeeper(res)) return res;
        last = new NetError("UNAVAILABLE", "the node reached does not keep the books");
      } catch (err) {
        if (signal.aborted) throw err;
        last = err;
      }
      return undefined;
    };
    for (const t of this.list) {
      const res = await attempt(t);
      if (res !== undefined) return res;
    }
    const fresh = await findBookkeeper(this.net, this.org, signal).catch(() => []);
    for (const t of fresh.filter((x) => !this.list.includes(x))) {
      const res = await attempt(t);
      if (res === undefined) continue;
      this.list = [t, ...this.list.filter((x) => x !== t)].slice(0, MAX_TARGETS);
      await this.changed();
      return res;
    }
    throw last ?? new NetError("UNAVAILABLE", "the bookkeeper cannot be reached");
  }
}
