/**
 * A bounds check of Avro bytes before avsc decodes them. avsc reads an array or map block
 * count and then loops that many times without looking at the end of the buffer, so a
 * 10-byte message claiming ~10^9 map entries held the event loop for over a minute (the
 * consumer misses its heartbeats; the partition stalls). This walk skips through the bytes
 * with the writer's type and refuses a block whose count is larger than the bytes left could
 * hold, or any read past the end, in time linear in the message size.
 *
 * @example
 * const why = avroBoundsProblem(writerType, payload); // 'map block of 1073741824 entries in 5 bytes'
 */
import type avro from 'avsc';

class Walk {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new RangeError(`needs ${n} bytes at ${this.pos} of ${this.buf.length}`);
    this.pos += n;
  }
  /** A zigzag varint long, as a float (exact enough for bounds). */
  long(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new RangeError(`varint past the end at ${this.pos}`);
      const b = this.buf[this.pos++];
      n += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    }
    throw new RangeError(`varint longer than 10 bytes at ${this.pos}`);
  }
}

/** Fewest bytes one value of `t` takes, to bound block counts (0 for null and empty records). */
function minSize(t: avro.Type): number {
  const x = t as unknown as { typeName: string; size?: number; underlyingType?: avro.Type; fields?: { type: avro.Type }[] };
  if (x.typeName.startsWith('logical:')) return minSize(x.underlyingType as avro.Type);
  if (x.typeName === 'null') return 0;
  if (x.typeName === 'fixed') return x.size ?? 0;
  if (x.typeName === 'float') return 4;
  if (x.typeName === 'double') return 8;
  if (x.typeName === 'record' || x.typeName === 'error') return (x.fields ?? []).reduce((s, f) => s + minSize(f.type), 0);
  return 1;
}

function skip(t: avro.Type, w: Walk): void {
  const x = t as unknown as { typeName: string; size: number; underlyingType: avro.Type; itemsType: avro.Type; valuesType: avro.Type; types: avro.Type[]; fields: { type: avro.Type }[] };
  const name = x.typeName;
  if (name.startsWith('logical:')) return skip(x.underlyingType, w);
  switch (name) {
    case 'null': return;
    case 'boolean': return w.need(1);
    case 'int': case 'long': case 'enum': w.long(); return;
    case 'float': return w.need(4);
    case 'double': return w.need(8);
    case 'bytes': case 'string': return w.need(w.long());
    case 'fixed': return w.need(x.size);
    case 'record': case 'error': for (const f of x.fields) skip(f.type, w); return;
    case 'union:wrapped': case 'union:unwrapped': {
      const branch = x.types[w.long()];
      if (!branch) throw new RangeError('union branch out of range');
      return skip(branch, w);
    }
    case 'array': case 'map': return blocks(name === 'map' ? x.valuesType : x.itemsType, name === 'map', w);
    default: throw new RangeError(`cannot walk avro type ${name}`);
  }
}

function blocks(item: avro.Type, isMap: boolean, w: Walk): void {
  const each = minSize(item) + (isMap ? 1 : 0);
  for (;;) {
    let n = w.long();
    if (n === 0) return;
    if (n < 0) {
      n = -n;
      w.long(); // the block's size in bytes
    }
    const left = w.buf.length - w.pos;
    // An item of zero bytes (null) cannot be bounded by size; a million is far beyond any reading.
    if ((each > 0 && n * each > left) || (each === 0 && n > 1_000_000)) {
      throw new RangeError(`${isMap ? 'map' : 'array'} block of ${n} entries in ${left} bytes`);
    }
    for (let i = 0; i < n; i++) {
      if (isMap) w.need(w.long());
      skip(item, w);
    }
  }
}

/** Why `buf` cannot be a value of `writer` (a count or length past the end), or undefined. */
export function avroBoundsProblem(writer: avro.Type, buf: Buffer): string | undefined {
  try {
    skip(writer, new Walk(buf));
    return undefined;
  } catch (e) {
    if (e instanceof RangeError) return e.message;
    throw e;
  }
}
