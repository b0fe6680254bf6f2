// The `ckpt log` commands as a child process of the runtime under test, beyond the round trip in
// cli.test.ts: a torn tail that replay reports but leaves alone and append moves into a side
// file; repair keeping the damaged bytes exactly; bytes no crash could leave (the torn-tail rule)
// treated as damage; truncate on a rotated log; garbage segments; missing directories; s3://.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { defaultFs } from "../adapters/detect.ts";
import {
  encodeSegmentHeader,
  RECORD_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  segmentName,
  SKIP_RECORD_SIZE,
} from "../src/wal/format.ts";
import { openLog } from "../src/wal/log.ts";
import { randomBytes, rng, runtime, test } from "./kit.ts";
import { flipped } from "./lib/damage.ts";
import { ckpt, noCrash } from "./lib/cli.ts";

interface Report {
  recovered: number;
  discarded: number;
  lastSequence: number;
  truncatedBytes: number;
  damage: { sequence: number; offset: number; reason: string } | null;
}

function tmp(): { dir: string; done(): void } {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-logcli-${runtime}-`);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function replay(log: string, ...flags: string[]): Report {
  const r = ckpt(["log", "replay", log, "--json", ...flags]);
  noCrash(r);
  assert.equal(r.code, 0, r.stderr);
  return r.json<Report>();
}

test(`log cli (${runtime}): a torn tail is reported by replay, left alone, and cut by append`, () => {
  const t = tmp();
  try {
    const log = `${t.dir}/lg`;
    writeFileSync(`${t.dir}/r`, "0123456789");
    for (let i = 1; i <= 3; i++) assert.equal(ckpt(["log", "append", log, `${t.dir}/r`, "--json"]).json().sequence, i);
    const seg = `${log}/${segmentName(1)}`;
    const whole = readFileSync(seg);
    const torn = whole.subarray(0, whole.length - 4); // the last record lost its last 4 bytes
    writeFileSync(seg, torn);
    const r = replay(log);
    assert.deepEqual({
      recovered: r.recovered,
      lastSequence: r.lastSequence,
      truncatedBytes: r.truncatedBytes,
      damage: r.damage,
    }, { recovered: 2, lastSequence: 2, truncatedBytes: RECORD_HEADER_SIZE + 10 - 4, damage: null });
    assert.deepEqual(readFileSync(seg), torn, "replay never modifies the log");
    const a = ckpt(["log", "append", log, `${t.dir}/r`, "--json"]);
    assert.equal(a.code, 0, a.stderr);
    const out = a.json<{ sequence: number; truncatedBytes: number; cutBytes: number; sideFile: string }>();
    assert.deepEqual({ sequence: out.sequence, truncatedBytes: out.truncatedBytes, cutBytes: out.cutBytes }, {
      sequence: 4,
      truncatedBytes: RECORD_HEADER_SIZE + 10 - 4,
      cutBytes: RECORD_HEADER_SIZE + 10 - 4,
    }, "the torn record's sequence 3 is skipped: it may not be handed out again");
    assert.deepEqual(
      readFileSync(`${log}/${out.sideFile}`),
      torn.subarray(whole.length - RECORD_HEADER_SIZE - 10),
      "the side file holds the cut bytes",
    );
    assert.deepEqual(
      readFileSync(seg).subarray(0, whole.length - RECORD_HEADER_SIZE - 10),
      whole.subarray(0, whole.length - RECORD_HEADER_SIZE - 10),
    );
    assert.equal(readFileSync(seg).length, whole.length + SKIP_RECORD_SIZE, "a skip record, then record 4");
  } finally {
    t.done();
  }
});

test(`log cli (${runtime}): a bit flipped at the end of the last acknowledged record is damage: append exits 1, repair keeps it, its sequence is not reused`, () => {
  const t = tmp();
  try {
    const log = `${t.dir}/lg`;
    for (let i = 1; i <= 3; i++) {
      assert.equal(ckpt(["log", "append", log, "-", "--json"], { input: `record ${i}` }).json().sequence, i);
    }
    const seg = `${log}/${segmentName(1)}`;
    const clean = new Uint8Array(readFileSync(seg));
    const lastAt = clean.length - RECORD_HEADER_SIZE - 8;
    const bytes = flipped(clean, clean.length - 1, 1);
    writeFileSync(seg, bytes);
    const r = replay(log);
    assert.deepEqual({
      recovered: r.recovered,
      truncatedBytes: r.truncatedBytes,
      damage: r.damage && { sequence: r.damage.sequence, offset: r.damage.offset },
    }, { recovered: 2, truncatedBytes: 0, damage: { sequence: 3, offset: lastAt } });
    const refused = ckpt(["log", "append", log, "-"], { input: "other content" });
    noCrash(refused);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ckpt log repair/);
    const fixed = ckpt(["log", "repair", log, "--json"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const rep = fixed.json<{ sideFile: string; cutBytes: number; nextSequence: number }>();
    assert.deepEqual(new Uint8Array(readFileSync(`${log}/${rep.sideFile}`)), bytes.subarray(lastAt));
    assert.equal(
      ckpt(["log", "append", log, "-", "--json"], { input: "other content" }).json().sequence,
      4,
      "sequence 3 is never handed out again",
    );
  } finally {
    t.done();
  }
});

test(`log cli (${runtime}): repair keeps every damaged byte in a side file and the log appends again`, () => {
  const t = tmp();
  try {
    const log = `${t.dir}/lg`;
    for (let i = 1; i <= 5; i++) {
      writeFileSync(`${t.dir}/r`, `record ${i}`);
      assert.equal(ckpt(["log", "append", log, `${t.dir}/r`]).code, 0);
    }
    const seg = `${log}/${segmentName(1)}`;
    const second = SEGMENT_HEADER_SIZE + RECORD_HEADER_SIZE + 8;
    const bytes = flipped(new Uint8Array(readFileSync(seg)), second + RECORD_HEADER_SIZE + 3, 0x20); // payload of record 2
    writeFileSync(seg, bytes);
    const r = replay(log);
    assert.deepEqual({
      recovered: r.recovered,
      discarded: r.discarded,
      damage: r.damage && { sequence: r.damage.sequence, offset: r.damage.offset },
    }, { recovered: 1, discarded: 3, damage: { sequence: 2, offset: second } });
    const salvaged = replay(log, "--salvage");
    assert.equal(salvaged.recovered, 4);
    assert.equal(salvaged.lastSequence, 5);
    const refused = ckpt(["log", "append", log, `${t.dir}/r`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ckpt log repair/);
    const fixed = ckpt(["log", "repair", log, "--json"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const side = fixed.json<{ sideFiles: string[] }>().sideFiles;
    assert.deepEqual(
      new Uint8Array(readFileSync(`${log}/${side[0]}`)),
      bytes.subarray(second),
      "the side file holds the damaged bytes exactly",
    );
    assert.deepEqual(new Uint8Array(readFileSync(seg)).subarray(0, second), bytes.subarray(0, second));
    const after = replay(log);
    assert.deepEqual({ recovered: after.recovered, damage: after.damage }, { recovered: 1, damage: null });
    assert.equal(
      ckpt(["log", "append", log, `${t.dir}/r`, "--json"]).json().sequence,
      6,
      "above the moved records 2..5",
    );
  } finally {
    t.done();
  }
});

test(`log cli (${runtime}): zeros after the last record are unused space; other bytes are damage that repair keeps`, () => {
  const t = tmp();
  try {
    const log = `${t.dir}/lg`;
    for (let i = 1; i <= 3; i++) {
      assert.equal(ckpt(["log", "append", log, "-", "--json"], { input: `record ${i}` }).json().sequence, i);
    }
    const seg = `${log}/${segmentName(1)}`;
    const good = new Uint8Array(readFileSync(seg));
    // Zeros (a preallocated segment's unused space, or an in-flight write's sectors that never
    // landed, the size durable): nothing to cut; the next record overwrites them in place.
    writeFileSync(seg, concat(good, new Uint8Array(3000)));
    const torn = replay(log);
    assert.deepEqual({ recovered: torn.recovered, truncatedBytes: torn.truncatedBytes, damage: torn.damage }, {
      recovered: 3,
      truncatedBytes: 0,
      damage: null,
    });
    const cut = ckpt(["log", "append", log, "-", "--json"], { input: "record 4" });
    assert.equal(cut.code, 0, cut.stderr);
    const c = cut.json<{ sequence: number; cutBytes: number; sideFile: string | null }>();
    assert.deepEqual({ sequence: c.sequence, cutBytes: c.cutBytes, sideFile: c.sideFile }, {
      sequence: 4,
      cutBytes: 0,
      sideFile: null,
    });
    assert.equal(readFileSync(seg).length, good.length + 3000, "written in place");
    const four = new Uint8Array(readFileSync(seg)).subarray(0, good.length + RECORD_HEADER_SIZE + "record 4".length);
    writeFileSync(seg, four);
    // Random bytes: no crash writes a header that is neither the writer's nor zeros. Damage.
    const garbage = randomBytes(1 << 20, rng(2024));
    const bad = concat(four, garbage);
    writeFileSync(seg, bad);
    const r = replay(log);
    assert.deepEqual({
      recovered: r.recovered,
      discarded: r.discarded,
      lastSequence: r.lastSequence,
      truncatedBytes: r.truncatedBytes,
    }, { recovered: 4, discarded: 0, lastSequence: c.sequence, truncatedBytes: 0 });
    assert.deepEqual({ sequence: r.damage?.sequence, offset: r.damage?.offset }, {
      sequence: c.sequence + 1,
      offset: four.length,
    });
    assert.match(r.damage!.reason, /not a torn write/);
    assert.deepEqual(new Uint8Array(readFileSync(seg)), bad, "replay never modifies the log");
    const refused = ckpt(["log", "append", log, "-", "--json"], { input: "record 5" });
    noCrash(refused);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /ckpt log repair/);
    assert.deepEqual(new Uint8Array(readFileSync(seg)), bad, "a refused append cuts nothing");
    // Repair moves the bytes into its side file, exactly; then the log appends again, above them.
    const fixed = ckpt(["log", "repair", log, "--json"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    const rep = fixed.json<
      {
        repaired: boolean;
        truncatedBytes: number;
        cutBytes: number;
        sideFile: string;
        sideFiles: string[];
        lastSequence: number;
        nextSequence: number;
      }
    >();
    assert.deepEqual({
      repaired: rep.repaired,
      truncatedBytes: rep.truncatedBytes,
      cutBytes: rep.cutBytes,
      lastSequence: rep.lastSequence,
      sides: rep.sideFiles.length,
    }, {
      repaired: true,
      truncatedBytes: garbage.length,
      cutBytes: garbage.length,
      lastSequence: c.sequence,
      sides: 1,
    });
    assert.equal(rep.sideFile, rep.sideFiles[0]);
    assert.deepEqual(
      new Uint8Array(readFileSync(`${log}/${rep.sideFile}`)),
      garbage,
      "the side file holds the bytes exactly",
    );
    assert.deepEqual(new Uint8Array(readFileSync(seg)).subarray(0, four.length), four);
    const after = replay(log);
    assert.deepEqual({ recovered: after.recovered, truncatedBytes: after.truncatedBytes, damage: after.damage }, {
      recovered: 4,
      truncatedBytes: 0,
      damage: null,
    });
    const again = ckpt(["log", "append", log, "-", "--json"], { input: "record 5" });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json<{ sequence: number }>().sequence, rep.nextSequence);
    assert.ok(rep.nextSequence > c.sequence + 1);
  } finally {
    t.done();
  }
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

test(`log cli (${runtime}): truncate --before removes only whole segments that precede it`, async () => {
  const t = tmp();
  try {
    const log = `${t.dir}/lg`;
    const l = await openLog(log, { fs: defaultFs(), maxSegmentBytes: 200 });
    for (let i = 1; i <= 40; i++) await l.append(new TextEncoder().encode(`record ${i} of the rotated log`));
    await l.close();
    const before = readdirSync(log).filter((n) => n.startsWith("seg-")).sort();
    assert.ok(before.length >= 8);
    const r = ckpt(["log", "truncate", log, "--before", "21", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const removed = r.json<{ removed: string[] }>().removed;
    assert.ok(removed.length >= 3);
    assert.deepEqual(
      readdirSync(log).filter((n) => n.startsWith("seg-")).sort(),
      before.filter((n) => !removed.includes(n)),
    );
    const rep = replay(log);
    assert.equal(rep.damage, null);
    assert.equal(rep.lastSequence, 40);
    assert.ok(rep.recovered >= 20 && rep.recovered < 40, `${rep.recovered} records remain`);
    assert.equal(ckpt(["log", "truncate", log, "--before", "0"]).code, 2);
    assert.equal(ckpt(["log", "truncate", log, "--before", "x"]).code, 2);
  } finally {
    t.done();
  }
});

test(`log cli (${runtime}): garbage segments and missing directories`, () => {
  const t = tmp();
  try {
    const log = `${t.dir}/lg`;
    assert.equal(
      ckpt(["log", "append", log, "-"], { input: "creates the log" }).code,
      0,
      "append creates a missing log",
    );
    // A second segment of 4 MiB pseudo-random garbage after a valid header: no record, no hang.
    const garbage = new Uint8Array(4 << 20);
    let x = 12345;
    for (let i = 0; i < garbage.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      garbage[i] = x >>> 24;
    }
    garbage.set(encodeSegmentHeader(2), 0);
    writeFileSync(`${log}/${segmentName(2)}`, garbage);
    const r = replay(log);
    assert.equal(r.recovered, 1);
    assert.equal(r.damage?.sequence, 2, "garbage after the last record is damage, never a torn tail");
    assert.equal(r.truncatedBytes, 0);
    // The log needs a local file system: s3:// is a usage error (exit 2), whatever the subcommand.
    for (
      const args of [["append", "s3://bucket/lg", "-"], ["replay", "s3://bucket/lg"], ["repair", "s3://bucket/lg"], [
        "truncate",
        "s3://bucket/lg",
        "--before",
        "2",
      ]]
    ) {
      const s3 = ckpt(["log", ...args], { input: "x" });
      noCrash(s3);
      assert.equal(s3.code, 2, `log ${args[0]} s3://: ${s3.stderr}`);
      assert.match(s3.stderr, /local directory only, not an s3:\/\/ path/);
    }
    for (const sub of [["replay"], ["truncate", "--before", "2"], ["repair"]]) {
      const m = ckpt(["log", sub[0]!, `${t.dir}/missing`, ...sub.slice(1)]);
      noCrash(m);
      assert.equal(m.code, 3, `log ${sub[0]} on a missing log`);
      assert.match(m.stderr, /missing/);
    }
  } finally {
    t.done();
  }
});
