// One source of truth, held by a test (issue 14, item 5): the container constants exist twice,
// in src/format/constants.ts (the host) and assembly/container.ts (the kernel). This compares
// them both ways, from the AssemblyScript source, and compares the instantiated kernel's exports
// with the host's declaration of them (KernelExports in src/wasm/kernel.ts), member for member.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as C from "../src/format/constants.ts";
import { encodeContainer } from "../src/format/writer.ts";
import { SHA256_STATE_SIZE } from "../src/hash.ts";
import { kernel, loadKernel } from "../src/wasm/kernel.ts";
import { test } from "./kit.ts";

const source = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** `[export] const NAME: type = <integer expression>;` of an AssemblyScript file, evaluated. */
function asConstants(text: string): Map<string, { value: bigint; exported: boolean }> {
  const out = new Map<string, { value: bigint; exported: boolean }>();
  for (const m of text.matchAll(/^(export\s+)?const\s+([A-Z_][A-Z0-9_]*)\s*:\s*\w+\s*=\s*([^;]+);/gm)) {
    const expr = m[3]!.replace(/\/\/.*$/, "").trim();
    // Integer literals and << only (what the file uses): anything else is not a layout constant.
    if (!/^[0-9a-fA-Fx_ <]+$/.test(expr)) continue;
    const value = expr.split("<<").map((t) => BigInt(t.trim().replaceAll("_", ""))).reduce((a, b) => a << b);
    out.set(m[2]!, { value, exported: !!m[1] });
  }
  return out;
}

/** Host name of each kernel constant of assembly/container.ts (undefined: not mirrored by design). */
const HOST_NAME: Record<string, string> = {
  HEADER_SIZE: "HEADER_SIZE",
  CHUNK_HEADER_SIZE: "CHUNK_HEADER_SIZE",
  TRAILER_SIZE: "TRAILER_SIZE",
  VERSION_MIN: "FORMAT_VERSION_MIN",
  VERSION_MAX: "FORMAT_VERSION",
  LEAF_SIZE: "LEAF_SIZE",
  LEAVES_CRC_SIZE: "LEAVES_CRC_SIZE",
  MAX_CHUNK_SIZE: "MAX_CHUNK_SIZE",
  MAX_META_SIZE: "MAX_META_SIZE",
};

test("every constant of assembly/container.ts equals its host twin in src/format/constants.ts", () => {
  const as = asConstants(source("assembly/container.ts"));
  const host = C as unknown as Record<string, unknown>;
  const status = C.STATUS as Record<string, number>;
  let compared = 0;
  for (const [name, { value, exported }] of as) {
    if (["MAGIC", "CHUNK_MAGIC", "TRAILER_MAGIC"].includes(name)) continue; // compared as bytes below
    if (name.startsWith("STATUS_")) {
      const key = name.slice("STATUS_".length);
      assert.equal(status[key], Number(value), `STATUS.${key} (host) vs ${name} (kernel)`);
    } else {
      assert.ok(exported, `${name}: a non-exported kernel constant with no magic: mirror it or mark it here`);
      const twin = HOST_NAME[name];
      assert.ok(twin, `kernel constant ${name} has no host twin: add it to src/format/constants.ts and to HOST_NAME`);
      assert.equal(host[twin], Number(value), `${twin} (host) vs ${name} (kernel)`);
    }
    compared++;
  }
  assert.ok(compared >= 6 + 12, `only ${compared} constants parsed: has assembly/container.ts changed shape?`);
});

test("every host constant mirrored in the kernel exists there with the same value", () => {
  const as = asConstants(source("assembly/container.ts"));
  const host = C as unknown as Record<string, number>;
  for (const [kname, hname] of Object.entries(HOST_NAME)) {
    assert.ok(as.has(kname), `${hname}: the kernel defines no ${kname}`);
    assert.equal(Number(as.get(kname)!.value), host[hname], `${hname} (host) vs ${kname} (kernel)`);
  }
  for (const [key, v] of Object.entries(C.STATUS)) {
    assert.equal(
      as.get(`STATUS_${key}`)?.value,
      BigInt(v),
      `STATUS.${key} = ${v} has no equal STATUS_${key} in the kernel`,
    );
    if (v !== 0) assert.ok(C.STATUS_TEXT[v], `STATUS.${key} has no STATUS_TEXT`);
  }
  // The magics: the kernel's u64/u32 literals, little-endian, against the bytes the spec names.
  const le = (v: bigint, n: number) =>
    Array.from({ length: n }, (_, i) => String.fromCharCode(Number((v >> BigInt(8 * i)) & 0xffn))).join("");
  assert.equal(le(as.get("MAGIC")!.value, 8), C.MAGIC);
  assert.equal(le(as.get("CHUNK_MAGIC")!.value, 4), "CHNK");
  assert.equal(le(as.get("TRAILER_MAGIC")!.value, 8), "CKPTEND\0");
  // ... and in a container the kernel encoded, at the offsets constants.ts gives.
  const { bytes } = encodeContainer(
    { kind: C.KIND_MEMBER, meta: {}, chunkSize: 4, chunkType: C.CHUNK_DATA },
    new Uint8Array(4),
  );
  const ascii = (a: number, n: number) => String.fromCharCode(...bytes.subarray(a, a + n));
  assert.equal(ascii(0, 8), C.MAGIC);
  const metaLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(20, true);
  assert.equal(ascii(C.HEADER_SIZE + metaLen + C.META_CRC_SIZE, 4), "CHNK");
  assert.equal(ascii(bytes.length - C.TRAILER_SIZE, 8), "CKPTEND\0");
  assert.equal(bytes.length, C.containerSize(metaLen, 4, 1));
  assert.equal(kernel().exports.containerSize(metaLen, 4, 1, C.FORMAT_VERSION), bytes.length);
});

test("the SHA-256 state size the host saves equals the kernel's SHA_STATE_SIZE", () => {
  assert.equal(SHA256_STATE_SIZE, Number(kernel().exports.SHA_STATE_SIZE.value));
  const sha = asConstants(source("assembly/sha256.ts")).get("SHA_STATE_SIZE");
  assert.equal(sha?.value, BigInt(SHA256_STATE_SIZE));
});

test("the instantiated kernel exports exactly what KernelExports declares", () => {
  const text = source("src/wasm/kernel.ts");
  const body = /export interface KernelExports \{([\s\S]*?)\n\}/.exec(text)?.[1];
  assert.ok(body, "KernelExports not found in src/wasm/kernel.ts");
  // Members sit at the interface's own indentation (two spaces); deeper lines are a member's
  // parameters wrapped by the formatter.
  const members = body.replace(/\/\*[\s\S]*?\*\//g, "").matchAll(/^ {2}([A-Za-z_][A-Za-z0-9_]*)\s*[(:]/gm);
  const declared = [...members].map((m) => m[1]!).sort();
  for (const variant of ["scalar", "simd"] as const) {
    const k = loadKernel(variant);
    if (!k) continue; // an engine without SIMD has only the scalar build
    const actual = Object.keys(k.exports).sort();
    assert.deepEqual(actual, declared, `${variant} build: exports vs KernelExports`);
    for (const name of declared) {
      const v: unknown = (k.exports as unknown as Record<string, unknown>)[name];
      if (name === "memory") assert.ok(v instanceof WebAssembly.Memory);
      else if (/^[A-Z_]+$/.test(name)) assert.ok(v instanceof WebAssembly.Global, `${name} is a global`);
      else assert.equal(typeof v, "function", `${name} is a function`);
    }
  }
});

test("a chunk of the wrong type for its container is bad-chunk damage, not payload", async () => {
  const { MemoryFs } = await import("../adapters/memory.ts");
  const { scanContainer } = await import("../src/format/reader.ts");
  const scan = async (kind: number, chunkType: number) => {
    const { bytes } = encodeContainer({ kind, meta: {}, chunkSize: 8, chunkType }, new Uint8Array(20).fill(7));
    const fs = new MemoryFs();
    const h = await fs.open("/f", { write: true, create: true });
    await h.write(bytes, 0);
    const oks: boolean[] = [];
    const r = await scanContainer(h, "/f", {
      onChunk: (_, info) => {
        oks.push(info.ok);
      },
    });
    await h.close();
    return { r, oks };
  };
  const good = await scan(C.KIND_MEMBER, C.CHUNK_DATA);
  assert.deepEqual(good.r.damage, []);
  assert.deepEqual(good.oks, [true, true, true]);
  const member = await scan(C.KIND_MEMBER, C.CHUNK_MEMBER_TABLE);
  assert.deepEqual(member.r.damage.map((d) => [d.kind, d.block]), [["bad-chunk", 0], ["bad-chunk", 1], [
    "bad-chunk",
    2,
  ]]);
  assert.match(member.r.damage[0]!.message, /chunk type 2 \(member table\), but this container holds type 1 \(data\)/);
  assert.deepEqual(member.oks, [false, false, false]);
  const manifest = await scan(C.KIND_MANIFEST, C.CHUNK_DATA);
  assert.deepEqual(manifest.r.damage.map((d) => d.kind), ["bad-chunk", "bad-chunk", "bad-chunk"]);
});
