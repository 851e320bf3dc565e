import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { createLogger } from "../src/node/log.js";

function collect() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  };
}

describe("logs", () => {
  it("JSON lines with the module, each module at its own level, the rest at the root level", () => {
    const { lines, destination } = collect();
    const log = createLogger({
      level: "info",
      modules: { ledger: "debug", rpc: "warn" },
      pretty: false,
      destination,
    });
    log.module("ledger").debug("ledger detail");
    log.module("rpc").info("rpc chatter");
    log.module("rpc").warn("rpc problem");
    log.module("dht").info("dht news");
    log.module("dht").debug("dht detail");
    log.root.debug("root detail");
    log.root.info("root news");
    assert.deepEqual(
      lines.map((l) => [l.module ?? null, l.msg]),
      [
        ["ledger", "ledger detail"],
        ["rpc", "rpc problem"],
        ["dht", "dht news"],
        [null, "root news"],
      ],
    );
    assert.ok(lines.every((l) => typeof l.time === "number" && typeof l.level === "number"));
  });

  it("silent silences a module, and an all-silent log writes nothing", () => {
    const { lines, destination } = collect();
    const log = createLogger({ level: "silent", modules: { ledger: "silent" }, pretty: false, destination });
    log.module("ledger").fatal("no");
    log.module("rpc").error("no");
    log.root.fatal("no");
    assert.deepEqual(lines, []);
  });
});
