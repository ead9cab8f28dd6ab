/**
 * A minimal protocol-buffers writer: just enough wire format (varints, length-delimited fields,
 * fixed32 floats, packed repeats) to write ONNX models without a protobuf dependency.
 */

/** Growable byte buffer with protobuf field writers. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  private byte(b: number): void { this.ensure(1); this.buf[this.len++] = b; }

  /** Unsigned varint; negative int64 values are written as their two's complement (10 bytes). */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    if (x < 0x80n) { this.byte(Number(x)); return; }
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  private tag(field: number, wire: number): void { this.varint((field << 3) | wire); }

  bytes(data: Uint8Array): void { this.ensure(data.length); this.buf.set(data, this.len); this.len += data.length; }

  /** int32/int64/enum/bool field (wire type 0). */
  int(field: number, v: number | bigint): void { this.tag(field, 0); this.varint(v); }

  /** float field (wire type 5). */
  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.len, 4).setFloat32(0, v, true);
    this.len += 4;
  }

  /** string field. */
  string(field: number, s: string): void { this.lengthDelimited(field, new TextEncoder().encode(s)); }

  /** bytes or embedded message field. */
  lengthDelimited(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.bytes(data);
  }

  /** Embedded message built by `fill`. */
  message(field: number, fill: (w: ProtoWriter) => void): void {
    const w = new ProtoWriter();
    fill(w);
    this.lengthDelimited(field, w.finish());
  }

  /** Packed repeated varints. */
  packedInts(field: number, values: readonly (number | bigint)[]): void {
    const w = new ProtoWriter();
    for (const v of values) w.varint(v);
    this.lengthDelimited(field, w.finish());
  }

  /** Packed repeated floats. */
  packedFloats(field: number, values: ArrayLike<number>): void {
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
    this.lengthDelimited(field, b);
  }

  finish(): Uint8Array { return this.buf.slice(0, this.len); }
}
