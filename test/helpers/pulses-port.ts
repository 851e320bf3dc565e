/**
 * A bookkeeper as a replica catching up sees it (src/org/replica.ts): a NetPort whose one target
 * answers Info with the genesis and Pulses with each pulse's accepted transactions and certificate
 * from a source ledger (indexTxs), through `shown`, which may change what a pulse is shown as.
 */
import assert from "node:assert/strict";
import { decodeRequest, encodeList, Op, okResponse } from "../../src/dht/wire.js";
import type { Ledger } from "../../src/ledger/ledger.js";
import type { NetPort } from "../../src/org/discovery.js";
import { decodePulsesRequest, encodePulses, type PulseRecord } from "../../src/org/protocol.js";

/** The NetPort of a bookkeeper serving `source`'s pulses (`shown` sees each record first). */
export function pulsesPort(
  source: Ledger,
  genesis: Buffer,
  shown: (r: PulseRecord) => PulseRecord = (r) => r,
): NetPort {
  return {
    request: async (_target, bytes) => {
      const req = decodeRequest(bytes);
      if (req.op === Op.Info) return okResponse(encodeList([genesis, Buffer.alloc(0)]));
      assert.equal(req.op, Op.Pulses);
      const { from, count } = decodePulsesRequest(req.body);
      const records: PulseRecord[] = [];
      for (let p = from; p < from + count && p <= source.head!; p++)
        records.push(shown({ pulse: p, certificate: source.certificateAt(p)!, txs: source.batchAt(p)! }));
      return okResponse(encodePulses(records));
    },
    getRecord: async () => undefined,
    publish: async () => {},
    targetsOf: () => [],
  };
}
