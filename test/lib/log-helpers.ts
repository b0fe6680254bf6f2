// Shared by the log tests that build segments by hand on the memory adapter.
import assert from "node:assert/strict";
import { MemoryFs } from "../../adapters/memory.ts";
import { segmentName } from "../../src/wal/format.ts";
import { type Log, replayLog } from "../../src/wal/log.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The first segment of the log at /log. */
export const SEG = `/log/${segmentName(1)}`;

/** A memory fs with a durable, empty /log directory. */
export async function freshLogFs(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/log");
  await fs.syncDir("/");
  return fs;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * What replay reports as torn for bytes `b[off…]` that fail: up to the end of the 512-byte sector
 * holding their last nonzero byte (or the file's end); 0 if they are all zeros — whole zero
 * sectors after a tear are unused space, as in a preallocated segment (docs/LOG.md).
 */
export function tornLength(b: Uint8Array, off: number): number {
  let end = b.length;
  while (end > off && b[end - 1] === 0) end--;
  return end === off ? 0 : Math.min(b.length, Math.ceil(end / 512) * 512) - off;
}

/** Replays the log at /log: its sequences in order, each one's payload as text, and the report. */
export async function scan(
  fs: MemoryFs,
): Promise<{ seqs: number[]; payloads: Map<number, string>; report: Awaited<ReturnType<typeof replayLog>> }> {
  const seqs: number[] = [];
  const payloads = new Map<number, string>();
  const report = await replayLog("/log", {
    fs,
    onRecord: (r) => {
      seqs.push(r.sequence);
      payloads.set(r.sequence, dec.decode(r.payload));
    },
  });
  return { seqs, payloads, report };
}

/**
 * A crash state's writer lock belongs to a dead process; how it is taken over after a power loss
 * (a 0-byte lock) is the lock's business (src/lock/lock.ts and its tests), not the log tests'.
 */
export async function dropLock(fs: MemoryFs): Promise<void> {
  if (await fs.stat("/log/.lock")) await fs.unlink("/log/.lock");
}

/**
 * Guarantees 6 and 11 after a crash state was reopened as `log`: two more appends (then closed),
 * and the log replays without damage, in strictly increasing sequences, every acknowledged record
 * with its bytes, no acknowledged sequence handed out again, the two new records last. With
 * `sent`, every other record must be one that was appended (nothing invented).
 */
export async function assertPrefixAfterReopen(
  where: string,
  fs: MemoryFs,
  log: Log,
  acked: Map<number, string>,
  sent?: Set<string>,
): Promise<void> {
  const more = [await log.append(enc.encode("after 1")), await log.append(enc.encode("after 2"))];
  await log.close();
  const maxAcked = Math.max(0, ...acked.keys());
  assert.ok(more[0]! > maxAcked, `${where}: sequence ${more[0]} reuses an acknowledged one (max ${maxAcked})`);
  const { seqs, payloads, report } = await scan(fs);
  assert.equal(report.damage, null, where);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `${where}: sequences strictly increase`);
  for (const [seq, text] of acked) assert.equal(payloads.get(seq), text, `${where}: acknowledged record ${seq}`);
  if (sent) {
    for (const seq of seqs.slice(0, -2)) {
      assert.ok(sent.has(payloads.get(seq)!), `${where}: record ${seq} was never appended`);
    }
  }
  assert.deepEqual(seqs.slice(-2), more);
}

/**
 * Puts `bytes` in place as the first segment of a log of three records, the third at `lastAt`,
 * and asserts replay keeps records 1 and 2 and reports the third as damage, not as a torn tail.
 */
export async function assertLastRecordDamaged(
  fs: MemoryFs,
  bytes: Uint8Array,
  lastAt: number,
  where: string,
): Promise<void> {
  fs.poke(SEG, bytes);
  const { seqs, report } = await scan(fs);
  assert.deepEqual(seqs, [1, 2], where);
  assert.equal(report.truncatedBytes, 0, `${where}: not a torn tail`);
  assert.deepEqual({ sequence: report.damage?.sequence, offset: report.damage?.offset }, {
    sequence: 3,
    offset: lastAt,
  }, `${where}: ${report.damage?.reason}`);
}
