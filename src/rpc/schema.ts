/**
 * The JSON Schema subset the RPC's method table is written in, and its validator. One schema serves
 * three ends: it checks a call's params before the handler runs, it is published in the OpenRPC
 * document (`rpc.discover`), and the tests check every result against it. Supported keywords: type
 * (one or a list), enum, pattern, minLength, maxLength, minimum, maximum, properties, required,
 * additionalProperties (false only), items, description.
 */

/** A schema of the subset. */
export interface Schema {
  readonly type?: SchemaType | readonly SchemaType[];
  readonly description?: string;
  readonly enum?: readonly (string | number)[];
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: false;
  readonly items?: Schema;
}

export type SchemaType = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

const patterns = new Map<string, RegExp>();

function typeOf(v: unknown): SchemaType | "other" {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  switch (typeof v) {
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "number":
      return Number.isInteger(v) ? "integer" : "number";
    case "object":
      return "object";
    default:
      return "other";
  }
}

/** The first way `v` breaks `s`, as "where: what", or undefined if it fits. */
export function validate(s: Schema, v: unknown, where = "value"): string | undefined {
  const t = typeOf(v);
  if (s.type !== undefined) {
    const types = typeof s.type === "string" ? [s.type] : s.type;
    const ok = types.some((x) => x === t || (x === "number" && t === "integer"));
    if (!ok) return `${where} must be ${types.join(" or ")}, got ${t === "other" ? typeof v : t}`;
  }
  if (s.enum !== undefined && !s.enum.includes(v as string | number))
    return `${where} must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`;
  if (t === "string") {
    const str = v as string;
    if (s.minLength !== undefined && str.length < s.minLength)
      return `${where} must have at least ${s.minLength} characters`;
    if (s.maxLength !== undefined && str.length > s.maxLength)
      return `${where} must have at most ${s.maxLength} characters`;
    if (s.pattern !== undefined) {
      let re = patterns.get(s.pattern);
      if (re === undefined) {
        re = new RegExp(s.pattern, "u");
        patterns.set(s.pattern, re);
      }
      if (!re.test(str))
        return `${where} must match ${s.pattern}${s.description ? ` (${s.description})` : ""}`;
    }
  }
  if (t === "integer" || t === "number") {
    const n = v as number;
    if (s.minimum !== undefined && n < s.minimum) return `${where} must be at least ${s.minimum}`;
    if (s.maximum !== undefined && n > s.maximum) return `${where} must be at most ${s.maximum}`;
  }
  if (t === "object") {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!Object.hasOwn(o, r)) return `${where}.${r} is required`;
    for (const [k, x] of Object.entries(o)) {
      // Own properties only: "constructor" or "__proto__" must not pass for a declared field.
      const sub = s.properties !== undefined && Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
      if (sub === undefined) {
        if (s.additionalProperties === false) return `${where}.${k} is not a known field`;
        continue;
      }
      const e = validate(sub, x, `${where}.${k}`);
      if (e !== undefined) return e;
    }
  }
  if (t === "array" && s.items !== undefined) {
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) {
      const e = validate(s.items, a[i], `${where}[${i}]`);
      if (e !== undefined) return e;
    }
  }
  return undefined;
}
