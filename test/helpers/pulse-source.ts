/**
 * A bookkeeper as a replica catching up sees it (src/org/replica.ts): a NetPort that answers Info
 * with `genesis` and Op.Pulses with the final pulses of `source` (each with its certificate and
 * batch), and nothing else.
 */
import { strict as assert } from "node:assert";
import { decodeRequest, encodeList, Op, okResponse } from "../../src/dht/wire.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { NetPort } from "../../src/org/discovery.js";
import { decodePulsesRequest, encodePulses } from "../../src/org/protocol.js";

/** The NetPort of a bookkeeper holding `source`, whose organization began with `genesis`. */
export function pulseSource(
  source: Pick<Ledger, "head" | "certificateAt" | "batchAt">,
  genesis: Buffer,
): NetPort {
  return {
    request: async (_target, bytes) => {
      const req = decodeRequest(bytes);
      if (req.op === Op.Info) return okResponse(encodeList([genesis, Buffer.alloc(0)]));
      assert.equal(req.op, Op.Pulses);
      const { from, count } = decodePulsesRequest(req.body);
      const records = [];
      for (let p = from; p < from + count && p <= source.head!; p++)
        records.push({ pulse: p, certificate: source.certificateAt(p)!, txs: source.batchAt(p)! });
      return okResponse(encodePulses(records));
    },
    getRecord: async () => undefined,
    publish: async () => {},
    targetsOf: () => [],
  };
}
