// The kernel's CRC-32 and SHA-256 against independent implementations: known-answer vectors,
// then node:crypto, zlib.crc32, WebCrypto and hash-wasm on edge sizes and random split points.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { crc32 as hwCrc32, sha256 as hwSha256 } from "hash-wasm";
import { crc32, createSha256, sha256, toHex } from "../src/index.ts";
import { kernel } from "../src/wasm/kernel.ts";
import { randomBytes, rng, test } from "./kit.ts";

const enc = new TextEncoder();
const IO = kernel().io.length;
const EDGE_SIZES = [0, 1, 3, 15, 16, 17, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 511, 512, 513,
  4095, 4096, 4097, 65535, 65536, 65537, IO - 1, IO, IO + 1, 2 * IO + 7, 5 * 1024 * 1024 + 3];

const nodeSha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const zlibCrc = (b: Uint8Array) => (zlib as unknown as { crc32(b: Uint8Array, s?: number): number }).crc32(b) >>> 0;

test("crc32 known answers", () => {
  assert.equal(crc32(enc.encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(enc.encode("The quick brown fox jumps over the lazy dog")), 0x414fa339);
  assert.equal(crc32(new Uint8Array(32)), 0x190a55ad);
  assert.equal(crc32(new Uint8Array(32).fill(0xff)), 0xff6cab0b);
});

test("sha256 NIST vectors", () => {
  assert.equal(toHex(sha256(enc.encode(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(toHex(sha256(enc.encode("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(
    toHex(sha256(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    toHex(sha256(enc.encode("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"))),
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
  );
  const million = new Uint8Array(1_000_000).fill(0x61);
  assert.equal(toHex(sha256(million)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
});

test("crc32 and sha256 match zlib, node:crypto and hash-wasm on edge sizes", async () => {
  const next = rng(1);
  for (const n of EDGE_SIZES) {
    const b = randomBytes(n, next);
    assert.equal(crc32(b), zlibCrc(b), `crc32 size ${n}`);
    assert.equal(crc32(b).toString(16).padStart(8, "0"), await hwCrc32(b), `crc32 vs hash-wasm size ${n}`);
    assert.equal(toHex(sha256(b)), nodeSha(b), `sha256 size ${n}`);
    assert.equal(toHex(sha256(b)), await hwSha256(b), `sha256 vs hash-wasm size ${n}`);
  }
});

test("sha256 matches WebCrypto", async () => {
  const next = rng(2);
  for (const n of [0, 1, 55, 56, 64, 1000, 70_000]) {
    const b = randomBytes(n, next);
    const web = new Uint8Array(await crypto.subtle.digest("SHA-256", b as BufferSource));
    assert.deepEqual(sha256(b), web, `size ${n}`);
  }
});

test("1,000 random inputs agree with node:crypto and zlib", () => {
  const next = rng(3);
  for (let i = 0; i < 1000; i++) {
    const b = randomBytes((next() * 9000) | 0, next);
    assert.equal(crc32(b), zlibCrc(b));
    assert.equal(toHex(sha256(b)), nodeSha(b));
  }
});

test("streaming: random split points equal the one-shot result", () => {
  const next = rng(4);
  for (let i = 0; i < 200; i++) {
    const n = (next() * (i % 10 === 0 ? 3 * IO : 5000)) | 0;
    const b = randomBytes(n, next);
    const cuts = [0, ...Array.from({ length: 1 + ((next() * 5) | 0) }, () => (next() * n) | 0), n].sort((x, y) => x - y);
    let c = 0;
    const h = createSha256();
    for (let j = 1; j < cuts.length; j++) {
      const part = b.subarray(cuts[j - 1], cuts[j]);
      c = crc32(part, c);
      h.update(part);
    }
    assert.equal(c, zlibCrc(b), `crc split ${cuts}`);
    assert.equal(toHex(h.digest()), nodeSha(b), `sha split ${cuts}`);
  }
});

test("two hashers interleave without sharing state", () => {
  const next = rng(5);
  const a = randomBytes(10_000, next);
  const b = randomBytes(7_777, next);
  const ha = createSha256();
  const hb = createSha256();
  for (let off = 0; off < 10_000; off += 333) {
    ha.update(a.subarray(off, off + 333));
    if (off < b.length) hb.update(b.subarray(off, Math.min(off + 333, b.length)));
  }
  assert.equal(toHex(ha.digest()), nodeSha(a));
  assert.equal(toHex(hb.digest()), nodeSha(b));
});

test("a finished hasher refuses more input", () => {
  const h = createSha256().update(enc.encode("x"));
  h.digest();
  assert.throws(() => h.update(enc.encode("y")), TypeError);
  assert.throws(() => h.digest(), TypeError);
});

test("crc32 seed chaining: crc32(b, crc32(a)) === crc32(a ‖ b)", () => {
  const next = rng(6);
  for (let i = 0; i < 100; i++) {
    const a = randomBytes((next() * 300) | 0, next);
    const b = randomBytes((next() * 300) | 0, next);
    const ab = new Uint8Array(a.length + b.length);
    ab.set(a);
    ab.set(b, a.length);
    assert.equal(crc32(b, crc32(a)), crc32(ab));
  }
});
