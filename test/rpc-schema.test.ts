import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { METHODS, type MethodSpec, paramsSchema } from "../src/rpc/api.js";
import { type Schema, validate } from "../src/rpc/schema.js";

const s: Schema = {
  type: "object",
  properties: {
    id: { type: "string", pattern: "^[0-9a-f]{4}$" },
    n: { type: "integer", minimum: 1, maximum: 9 },
    tags: { type: "array", items: { type: "string", enum: ["a", "b"] } },
    maybe: { type: ["string", "null"] },
  },
  required: ["id"],
  additionalProperties: false,
};

describe("the RPC's schema subset", () => {
  it("accepts what fits and names the first field that does not", () => {
    assert.equal(validate(s, { id: "00ff", n: 3, tags: ["a", "b"], maybe: null }), undefined);
    assert.match(validate(s, {}) ?? "", /value\.id is required/);
    assert.match(validate(s, { id: "00FF" }) ?? "", /value\.id must match/);
    assert.match(validate(s, { id: "00ff", n: 1.5 }) ?? "", /value\.n must be integer, got number/);
    assert.match(validate(s, { id: "00ff", n: 10 }) ?? "", /at most 9/);
    assert.match(validate(s, { id: "00ff", tags: ["a", "c"] }) ?? "", /value\.tags\[1\] must be one of/);
    assert.match(validate(s, { id: "00ff", extra: 1 }) ?? "", /value\.extra is not a known field/);
    assert.match(validate(s, [1]) ?? "", /must be object, got array/);
  });

  it("inherited names are not fields: constructor, toString and __proto__ are refused", () => {
    for (const bad of [
      '{"id":"00ff","constructor":1}',
      '{"id":"00ff","toString":"x"}',
      '{"id":"00ff","__proto__":{}}',
    ])
      assert.match(validate(s, JSON.parse(bad)) ?? "", /is not a known field/, bad);
  });

  it("every method's params schema refuses an unknown field and takes {} when nothing is required", () => {
    for (const [name, m] of Object.entries(METHODS as Record<string, MethodSpec>)) {
      const ps = paramsSchema(m);
      assert.match(validate(ps, { zz_unknown: 1 }) ?? "", /not a known field|is required/, name);
      if (!m.params.some((p) => p.required)) assert.equal(validate(ps, {}), undefined, name);
    }
  });
});
