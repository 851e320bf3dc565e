import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, configFields, envName, loadConfig } from "../src/node/config.js";
import { tmpDir } from "./helpers/tmp.js";

const withFile = (doc: unknown): string => {
  const dir = tmpDir("leither-config-");
  writeFileSync(join(dir, "config.json"), typeof doc === "string" ? doc : JSON.stringify(doc));
  return dir;
};

const refused = (f: () => unknown, code: string, message: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof ConfigError && e.code === code && message.test(e.message));

describe("config in layers", () => {
  it("defaults with no file, no environment and no flags", () => {
    const { config, sources } = loadConfig({ dataDir: tmpDir("leither-config-"), env: {} });
    assert.equal(config.rpc.port, 7620);
    assert.equal(config.log.level, "info");
    assert.deepEqual(config.log.modules, {});
    assert.equal(config.ledger.keepLast, 100);
    assert.equal(config.pulse.periodMs, 1000);
    assert.ok(Object.values(sources).every((s) => s === "default"));
  });

  it("file < environment < flags, field by field", () => {
    const dir = withFile({
      rpc: { port: 7001 },
      ledger: { keepLast: 10, cacheMb: 8 },
      log: { modules: { ledger: "debug" } },
    });
    const { config, sources } = loadConfig({
      dataDir: dir,
      env: {
        LEITHER_RPC_PORT: "7002",
        LEITHER_LEDGER_KEEP_LAST: "20",
        LEITHER_LOG_MODULES: "rpc=warn,ledger=trace",
      },
      flags: { "rpc.port": "7003" },
    });
    assert.equal(config.rpc.port, 7003);
    assert.equal(sources["rpc.port"], "flag");
    assert.equal(config.ledger.keepLast, 20);
    assert.equal(sources["ledger.keepLast"], "env");
    assert.equal(config.ledger.cacheMb, 8);
    assert.equal(sources["ledger.cacheMb"], "file");
    assert.deepEqual(config.log.modules, { rpc: "warn", ledger: "trace" });
    assert.equal(config.verify.threads, 0);
    assert.equal(sources["verify.threads"], "default");
  });

  it("environment names follow the field names", () => {
    assert.equal(envName("ledger.accountCacheMb"), "LEITHER_LEDGER_ACCOUNT_CACHE_MB");
    assert.equal(envName("rpc.port"), "LEITHER_RPC_PORT");
    assert.ok(configFields().some((f) => f.env === "LEITHER_PULSE_PERIOD_MS" && f.default === 1000));
  });

  it("a bad value names the field, where it came from and what it takes", () => {
    const dir = tmpDir("leither-config-");
    refused(
      () => loadConfig({ dataDir: dir, env: { LEITHER_RPC_PORT: "70000" } }),
      "BAD_FIELD",
      /LEITHER_RPC_PORT \(environment\) must be an integer from 0 to 65535, got "70000"/,
    );
    refused(
      () => loadConfig({ dataDir: dir, env: {}, flags: { "ledger.keepLast": "0" } }),
      "BAD_FIELD",
      /--ledger-keepLast must be an integer from 1/,
    );
    refused(
      () => loadConfig({ dataDir: dir, env: { LEITHER_LOG_LEVEL: "loud" } }),
      "BAD_FIELD",
      /one of fatal, error/,
    );
    refused(
      () => loadConfig({ dataDir: dir, env: { LEITHER_LOG_MODULES: "ledger" } }),
      "BAD_FIELD",
      /module=level/,
    );
    refused(
      () => loadConfig({ dataDir: dir, env: { LEITHER_PULSE_PERIOD_MS: "1.5" } }),
      "BAD_FIELD",
      /LEITHER_PULSE_PERIOD_MS/,
    );
    refused(
      () => loadConfig({ dataDir: withFile({ rpc: { port: "x" } }), env: {} }),
      "BAD_FIELD",
      /rpc\.port in .*config\.json/,
    );
  });

  it("an unknown field or a broken file is refused, never ignored", () => {
    refused(
      () => loadConfig({ dataDir: withFile({ rpc: { prot: 1 } }), env: {} }),
      "UNKNOWN_FIELD",
      /unknown field "rpc\.prot"/,
    );
    refused(
      () => loadConfig({ dataDir: withFile({ rpc: 5 }), env: {} }),
      "UNKNOWN_FIELD",
      /"rpc" must be an object/,
    );
    refused(() => loadConfig({ dataDir: withFile("{ not json"), env: {} }), "BAD_FILE", /not valid JSON/);
    refused(() => loadConfig({ dataDir: withFile("[1]"), env: {} }), "BAD_FILE", /one JSON object/);
    refused(
      () => loadConfig({ dataDir: tmpDir("leither-config-"), env: {}, flags: { "rpc.host": "0.0.0.0" } }),
      "UNKNOWN_FIELD",
      /rpc\.host/,
    );
    refused(
      () => loadConfig({ dataDir: withFile('{"__proto__": {"port": 1}}'), env: {} }),
      "UNKNOWN_FIELD",
      /__proto__/,
    );
  });
});
