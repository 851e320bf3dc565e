/**
 * Bounded binary reading and writing for canonical encodings: every read checks the remaining
 * length, varints must be minimal, and a decoder ends with `end()` to reject trailing bytes.
 */

/** A decoding failure: the bytes are not a canonical encoding. Never thrown for any other reason. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

const MAX_U64 = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Writes a safe integer as u64 big-endian without going through BigInt. */
export function writeU64n(buf: Buffer, offset: number, v: number): void {
  buf.writeUInt32BE(Math.floor(v / 0x100000000), offset);
  buf.writeUInt32BE(v >>> 0, offset + 4);
}

/**
 * Writes a u64 big-endian. Below 2^53 it goes through a Number (BigInt arithmetic allocates); above,
 * through Buffer's BigInt writer, which throws RangeError outside u64.
 */
export function writeU64(buf: Buffer, offset: number, v: bigint): void {
  if (v >= 0n && v <= SAFE) writeU64n(buf, offset, Number(v));
  else buf.writeBigUInt64BE(v, offset);
}

/** Appends bytes to a growing buffer. */
export class Writer {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** One byte. */
  u8(v: number): this {
    // A byte array would wrap 257 to 1 and cut 2.5 to 2: an enum written so would sign another value.
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`not a byte: ${v}`);
    this.room(1);
    this.buf[this.len++] = v;
    return this;
  }

  /** u16 big-endian. */
  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
    return this;
  }

  /** Overwrites a u16 written earlier at `pos` (a length known only after what follows is written). */
  /** u32 big-endian. */
  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
    return this;
  }

  patchU16(pos: number, v: number): void {
    this.buf.writeUInt16BE(v, pos);
  }

  /** A safe integer as u64 big-endian, without going through BigInt. */
  u64n(v: number): this {
    this.room(8);
    writeU64n(this.buf, this.len, v);
    this.len += 8;
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** u64 big-endian. */
  u64(v: bigint): this {
    this.room(8);
    writeU64(this.buf, this.len, v);
    this.len += 8;
    return this;
  }

  /** Unsigned LEB128, minimal, at most u64. */
  uvarint(v: bigint | number): this {
    let x = BigInt(v);
    if (x < 0n || x > MAX_U64) throw new RangeError(`varint outside u64: ${x}`);
    this.room(10);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
    return this;
  }

  /** A latin1 string's bytes (a hash held as a string). */
  latin1(s: string): this {
    this.room(s.length);
    this.buf.write(s, this.len, s.length, "latin1");
    this.len += s.length;
    return this;
  }

  /** Exactly `n` raw bytes: a field of fixed width (throws RangeError naming `what` otherwise). */
  exact(b: Uint8Array, n: number, what: string): this {
    if (!(b instanceof Uint8Array) || b.length !== n) throw new RangeError(`${what} must be ${n} bytes`);
    return this.bytes(b);
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** The first ceil(depth / 8) bytes of `key` with the bits at and after `depth` cleared. */
  prefixBytes(key: Uint8Array, depth: number): this {
    const nb = (depth + 7) >> 3;
    this.room(nb);
    for (let i = 0; i < nb; i++) this.buf[this.len + i] = key[i]!;
    if ((depth & 7) !== 0) this.buf[this.len + nb - 1]! &= (0xff << (8 - (depth & 7))) & 0xff;
    this.len += nb;
    return this;
  }

  /** Forgets what was written, keeping the buffer (for a writer reused across messages). */
  reset(): this {
    this.len = 0;
    return this;
  }

  /** Copies `src[start, end)` in without making a view of it. */
  copyFrom(src: Buffer, start: number, end: number): this {
    this.room(end - start);
    src.copy(this.buf, this.len, start, end);
    this.len += end - start;
    return this;
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  /**
   * The bytes written so far in a buffer of their own: not a slice of Node's shared 8 KiB pool, which
   * a long-lived small buffer (a cached page) would keep alive whole.
   */
  finishOwned(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }
}

/** Reads a byte string front to back; every method throws DecodeError past the end. */
export class Reader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length)
      throw new DecodeError(`truncated: ${what} needs ${n} bytes at offset ${this.pos}`);
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** One byte. */
  u8(what = "u8"): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  /** u16 big-endian. */
  u16(what = "u16"): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  /** u32 big-endian. */
  u32(what = "u32"): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** A u64 that must fit a safe JS integer (pulse numbers). */
  u64Number(what = "u64"): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what}: above 2^53 - 1`);
    return Number(v);
  }

  /** u64 big-endian. */
  u64(what = "u64"): bigint {
    this.need(8, what);
    const b = this.buf;
    const p = this.pos;
    const hi = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    const v = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
    this.pos += 8;
    return v;
  }

  /** Unsigned LEB128; rejects non-minimal forms and values above u64. */
  uvarint(what = "varint"): bigint {
    // Up to 7 bytes (49 bits) accumulate in a Number; BigInt only for longer varints.
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8(what);
      if (i < 7) {
        n += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          if (b === 0 && i > 0) throw new DecodeError(`${what}: non-minimal varint`);
          return BigInt(n);
        }
        continue;
      }
      if (i === 7) return this.uvarintTail(BigInt(n), b, what);
    }
    throw new DecodeError(`${what}: varint longer than 10 bytes`);
  }

  /** Bytes 8 to 10 of a long varint, in BigInt arithmetic. */
  private uvarintTail(x: bigint, first: number, what: string): bigint {
    let shift = 49n;
    let b = first;
    for (let i = 7; i < 10; i++) {
      if (i > 7) b = this.u8(what);
      x |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (b === 0) throw new DecodeError(`${what}: non-minimal varint`);
        if (x > MAX_U64) throw new DecodeError(`${what}: varint above u64`);
        return x;
      }
      shift += 7n;
    }
    throw new DecodeError(`${what}: varint longer than 10 bytes`);
  }

  /** A varint that must fit a safe JS integer (counts, lengths). */
  uvarintNumber(what = "varint"): number {
    const v = this.uvarint(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what}: too large`);
    return Number(v);
  }

  /** `n` raw bytes (a view, not a copy). */
  bytes(n: number, what = "bytes"): Buffer {
    this.need(n, what);
    const out = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return out;
  }

  /** Throws unless every byte was read. */
  end(what = "message"): void {
    if (this.pos !== this.buf.length)
      throw new DecodeError(`${what}: ${this.buf.length - this.pos} trailing bytes`);
  }
}
