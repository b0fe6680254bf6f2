// Data and option conversions for the node:fs/promises facade: bytes in (string with an encoding,
// Buffer, any TypedArray or DataView), bytes out (a Buffer where the runtime has one — it is a
// Uint8Array subclass — so `JSON.parse(await readFile(p))` works as in Node; a string with an
// encoding), flags as Node reads them, and option objects checked key by key: an option the
// simulator does not model is refused with ENOTSUP rather than ignored.
import { notSupported } from "./node-errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type BufferCtor = { from(a: ArrayBufferLike, off: number, len: number): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: BufferCtor }).Buffer;

export function checkEncoding(encoding: unknown, call: string): "utf8" | null {
  if (encoding === undefined || encoding === null || encoding === "buffer") return null;
  if (typeof encoding === "string" && /^utf-?8$/i.test(encoding)) return "utf8";
  throw notSupported(`${call} with encoding '${String(encoding)}' (only utf8)`);
}

/** Options as Node accepts them (a string is the encoding); unknown keys are refused. */
export function options(o: unknown, allowed: readonly string[], call: string): Record<string, unknown> {
  if (o === undefined || o === null) return {};
  if (typeof o === "string") return { encoding: o };
  if (typeof o !== "object") throw notSupported(`${call} with options of type ${typeof o}`);
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined && !allowed.includes(k)) throw notSupported(`${call} option '${k}'`);
  }
  return o as Record<string, unknown>;
}

export function toBytes(data: unknown, encoding: unknown, call: string): Uint8Array {
  if (typeof data === "string") {
    checkEncoding(encoding, call);
    return enc.encode(data);
  }
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw notSupported(
    `${call} with data of type ${data === null ? "null" : typeof data} (strings and byte arrays only)`,
  );
}

export function fromBytes(bytes: Uint8Array, encoding: "utf8" | null): Uint8Array | string {
  if (encoding) return dec.decode(bytes);
  const copy = bytes.slice();
  return NodeBuffer ? NodeBuffer.from(copy.buffer, 0, copy.length) : copy;
}

export function allocBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  return NodeBuffer ? NodeBuffer.from(b.buffer, 0, n) : b;
}

export interface Flags {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  append: boolean;
}

/** The string flags of Node's fs.open; numeric flags and the O_SYNC variants are not modelled. */
export function parseFlags(flags: unknown, call: string): Flags {
  const f = flags ?? "r";
  const table: Record<string, Flags> = {
    r: { read: true, write: false, create: false, exclusive: false, truncate: false, append: false },
    "r+": { read: true, write: true, create: false, exclusive: false, truncate: false, append: false },
    w: { read: false, write: true, create: true, exclusive: false, truncate: true, append: false },
    "w+": { read: true, write: true, create: true, exclusive: false, truncate: true, append: false },
    a: { read: false, write: true, create: true, exclusive: false, truncate: false, append: true },
    "a+": { read: true, write: true, create: true, exclusive: false, truncate: false, append: true },
  };
  if (typeof f !== "string") throw notSupported(`${call} with flags ${String(f)} (string flags only)`);
  const exclusive = /^[wa]x\+?$/.test(f) || /^x[wa]\+?$/.test(f);
  const base = table[f.replace("x", "")];
  if (!base) throw notSupported(`${call} with flags '${f}'`);
  return { ...base, exclusive };
}

/** Node's position arguments: null/undefined/-1 mean "the file position". */
export function position(p: unknown, call: string): number | null {
  if (p === undefined || p === null || p === -1) return null;
  if (typeof p === "number" && Number.isSafeInteger(p) && p >= 0) return p;
  throw notSupported(`${call} with position ${String(p)}`);
}
