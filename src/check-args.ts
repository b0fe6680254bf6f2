// Runtime checks of the store's public arguments, for callers TypeScript does not protect
// (plain JavaScript, `any`, JSON from elsewhere). Invariant: a wrong type is a UsageError that
// names the argument and what it got, thrown before the store touches disk; it never turns into
// a TypeError deep inside, a file named "[object Object]" or data silently coerced to bytes.
import { UsageError } from "./errors.ts";
import { PROTOCOLS } from "./protocol.ts";

/** What a value is, for messages: "a string", "null", "an array", "a Uint8Array", "42". */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number" || typeof v === "boolean") return `${typeof v} ${String(v)}`;
  if (typeof v === "string") return v.length > 40 ? "a string" : `'${v}'`;
  if (typeof v === "object") {
    const name = (v as object).constructor?.name;
    return name && name !== "Object" ? article(name) : "an object";
  }
  return article(typeof v);
}

const article = (noun: string) => `${/^[aeiouAEIOU]/.test(noun) ? "an" : "a"} ${noun}`;

function bad(what: string, want: string, got: unknown): never {
  throw new UsageError(`${what} must be ${want}, got ${describe(got)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function checkString(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length === 0) bad(what, "a non-empty string", v);
  return v;
}

/** An options bag: undefined or a plain object. */
export function checkOptions(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) bad(what, "an object", v);
  return v;
}

export function checkOptionalInt(v: unknown, what: string, min: number): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) bad(what, `an integer ≥ ${min}`, v);
}

function checkOptionalBoolean(v: unknown, what: string): void {
  if (v !== undefined && typeof v !== "boolean") bad(what, "true or false", v);
}

export function checkOptionalFunction(v: unknown, what: string): void {
  if (v !== undefined && typeof v !== "function") bad(what, "a function", v);
}

function checkOptionalProtocol(v: unknown, what: string): void {
  if (v !== undefined && !(PROTOCOLS as readonly unknown[]).includes(v)) bad(what, `one of ${PROTOCOLS.join(", ")}`, v);
}

function checkOptionalSignal(v: unknown, what: string): void {
  if (v === undefined) return;
  if (!isObject(v) || typeof v.aborted !== "boolean" || typeof v.addEventListener !== "function") {
    bad(what, "an AbortSignal", v);
  }
}

/** Member data: bytes in memory, a Blob, a ReadableStream or an AsyncIterable of bytes. */
function isMemberData(v: unknown): boolean {
  if (v instanceof Uint8Array) return true;
  if (!isObject(v)) return false;
  const B = (globalThis as { Blob?: new () => object }).Blob;
  if (B && v instanceof B) return true;
  return typeof v.getReader === "function" ||
    typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/** openStore(dir, options) / Store.open. */
export function checkOpenArgs(dir: unknown, options: unknown): void {
  checkString(dir, "openStore: dir");
  const o = checkOptions(options, "openStore: options");
  if (o.fs !== undefined && (!isObject(o.fs) || typeof o.fs.open !== "function")) {
    bad("openStore: options.fs", "a DurableFs", o.fs);
  }
  checkOptionalProtocol(o.protocol, "openStore: options.protocol");
  checkOptionalBoolean(o.readOnly, "openStore: options.readOnly");
  checkOptionalBoolean(o.create, "openStore: options.create");
  checkOptionalInt(o.chunkSize, "openStore: options.chunkSize", 1);
  checkOptionalFunction(o.onWarning, "openStore: options.onWarning");
  if (o.keep !== undefined && !isObject(o.keep) && typeof o.keep !== "number") {
    bad("openStore: options.keep", "an object { last?, every?, best? }", o.keep);
  }
}

/** store.save(members, options). */
export function checkSaveArgs(members: unknown, options: unknown): void {
  if (!Array.isArray(members)) bad("save: members", "an array of { name, data } or { name, path }", members);
  members.forEach((m: unknown, i) => {
    const what = `save: members[${i}]`;
    if (!isObject(m)) bad(what, "an object { name, data } or { name, path }", m);
    checkString(m.name, `${what}.name`);
    const hasData = "data" in m && m.data !== undefined;
    const hasPath = "path" in m && m.path !== undefined;
    if (hasData === hasPath) throw new UsageError(`${what} ('${m.name}') must have exactly one of data or path`);
    if (hasData && !isMemberData(m.data)) {
      bad(`${what}.data`, "a Uint8Array, Blob, ReadableStream or AsyncIterable<Uint8Array>", m.data);
    }
    if (hasPath) checkString(m.path, `${what}.path`);
  });
  const o = checkOptions(options, "save: options");
  checkOptionalInt(o.step, "save: options.step", 1);
  checkOptionalProtocol(o.protocol, "save: options.protocol");
  checkOptionalInt(o.keep, "save: options.keep", 1);
  checkOptionalSignal(o.signal, "save: options.signal");
  checkOptionalFunction(o.onProgress, "save: options.onProgress");
  if (o.meta !== undefined) {
    if (!isObject(o.meta)) bad("save: options.meta", "an object of string, number or boolean values", o.meta);
    for (const [k, v] of Object.entries(o.meta)) {
      if (typeof v !== "string" && typeof v !== "boolean" && !(typeof v === "number" && Number.isFinite(v))) {
        bad(`save: options.meta['${k}']`, "a string, a finite number or a boolean", v);
      }
    }
  }
}

/** A step argument (load, restore, check, open): undefined or an integer ≥ 1. */
export function checkStepArg(v: unknown, what: string): void {
  checkOptionalInt(v, what, 1);
}

/** Options of the long read calls (load, verify, restore): step, signal, onProgress. */
export function checkReadOptions(options: unknown, what: string): Record<string, unknown> {
  const o = checkOptions(options, `${what}: options`);
  checkOptionalInt(o.step, `${what}: options.step`, 1);
  checkOptionalSignal(o.signal, `${what}: options.signal`);
  checkOptionalFunction(o.onProgress, `${what}: options.onProgress`);
  return o;
}
