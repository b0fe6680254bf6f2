// `ckpt corrupt` reports what it did in bounded output: a bitflip of L bytes lists the first
// CORRUPT_BITS_SHOWN bits and counts the rest (the seed reproduces every one), in human output and
// --json alike. Before, `--length 90000000` printed one bit per byte (~180 MB).
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { CORRUPT_BITS_SHOWN, planCorruption } from "../src/corrupt.ts";
import { runtime, test } from "./kit.ts";
import { ckpt, noCrash } from "./lib/cli.ts";
import { repeating, scratchDir } from "./lib/interrupt-helpers.ts";

const SIZE = 8_000_000;

test("corrupt --mode bitflip --length 8,000,000: flips every byte, prints the first 64 bits and a count, human and --json, each under 2 KB", () => {
  const dir = scratchDir(`corrupt-${runtime}`);
  try {
    const f = `${dir}/victim`;
    const data = repeating(SIZE, 3);
    writeFileSync(f, data);
    const r = ckpt([
      "corrupt",
      f,
      "--mode",
      "bitflip",
      "--seed",
      "9",
      "--offset",
      "0",
      "--length",
      String(SIZE),
      "--json",
    ], { timeoutMs: 60_000 });
    noCrash(r);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length < 2000, `--json printed ${r.stdout.length} bytes`);
    const doc = r.json<{ length: number; bytesChanged: number; bits: number[]; bitsOmitted: number; seed: number }>();
    assert.equal(doc.length, SIZE);
    assert.equal(doc.bytesChanged, SIZE);
    assert.equal(doc.bits.length, CORRUPT_BITS_SHOWN);
    assert.equal(doc.bitsOmitted, SIZE - CORRUPT_BITS_SHOWN);
    // The listed bits are the plan's, and every byte of the file has exactly that bit flipped.
    const plan = planCorruption(SIZE, "bitflip", { seed: 9, offset: 0, length: SIZE });
    assert.deepEqual(doc.bits, Array.from(plan.bits!.subarray(0, CORRUPT_BITS_SHOWN)));
    const after = readFileSync(f);
    for (let i = 0; i < SIZE; i += 9973) assert.equal(after[i]! ^ data[i]!, 1 << plan.bits![i]!, `byte ${i}`);
    // Human output: a flip back with the same seed restores the file and prints one short line.
    const h = ckpt(["corrupt", f, "--mode", "bitflip", "--seed", "9", "--offset", "0", "--length", String(SIZE)], {
      timeoutMs: 60_000,
    });
    assert.equal(h.code, 0, h.stderr);
    assert.ok(h.stdout.length < 2000, `human output was ${h.stdout.length} bytes`);
    assert.match(h.stdout, new RegExp(`bits ${doc.bits.join(",")} … and ${SIZE - CORRUPT_BITS_SHOWN} more`));
    assert.deepEqual(new Uint8Array(readFileSync(f)), data);
    // A short flip lists every bit and omits none.
    const s = ckpt(["corrupt", f, "--mode", "bitflip", "--seed", "2", "--length", "3", "--json"]).json<
      { bits: number[]; bitsOmitted: number }
    >();
    assert.equal(s.bits.length, 3);
    assert.equal(s.bitsOmitted, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
