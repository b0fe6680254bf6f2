// What the fuzzer feeds: the container reader, the manifest (through a full checkpoint check),
// the log segment scanner, and the CLI's argument handling. File targets run on the in-memory
// fs, whose reads are watched: no read buffer may exceed what the input's size justifies (a
// length field must never size an allocation by itself).
import { MemoryFs } from "../../adapters/memory.ts";
import type { FileHandle } from "../../src/fs.ts";
import { scanContainer } from "../../src/format/reader.ts";
import {
  CHUNK_MEMBER_TABLE,
  CHUNK_TABLE_INLINE,
  INLINE_FORMAT_VERSION,
  KIND_MANIFEST,
} from "../../src/format/constants.ts";
import { INLINE_MAX } from "../../src/store/inline.ts";
import { encodeMemberTable } from "../../src/format/manifest.ts";
import { decodeMetadata, encodeMetadata } from "../../src/format/metadata.ts";
import { encodeContainer } from "../../src/format/writer.ts";
import { checkCheckpoint, readManifest } from "../../src/store/check.ts";
import { manifestName, memberName } from "../../src/store/layout.ts";
import { openStore } from "../../src/store/store.ts";
import { openLog } from "../../src/wal/log.ts";
import { scanLog } from "../../src/wal/scan.ts";
import { encodeBatch, encodeRecord, RECORD_BATCH, segmentName } from "../../src/wal/format.ts";
import { makeMembers, sameMembers } from "../../src/crash/workloads.ts";

/** Largest read buffer a parser may use on an input of `size` bytes: the input plus one window. */
export const readBound = (size: number) => size + (1 << 20) + 4096;

export class WatchedFs extends MemoryFs {
  maxRead = 0;
  /**
   * Every target pokes its input in first: a new input starts here. The simulator's per-call
   * trace is dropped (kept, it grew by every call of every input: ~1 GB of RSS after a million
   * inputs, so long runs could not scale), and so is the largest read of an input whose parser
   * threw before checkReads.
   */
  override poke(path: string, data: Uint8Array): void {
    this.trace.length = 0;
    this.maxRead = 0;
    super.poke(path, data);
  }
  override async open(path: string, o?: Parameters<MemoryFs["open"]>[1]): Promise<FileHandle> {
    const h = await super.open(path, o);
    const read = h.read.bind(h);
    h.read = (buf, pos) => {
      if (buf.length > this.maxRead) this.maxRead = buf.length;
      return read(buf, pos);
    };
    return h;
  }
  /** Throws (untyped, so the fuzzer reports it) when a read exceeded the bound. */
  checkReads(inputSize: number): void {
    if (this.maxRead > readBound(inputSize)) {
      throw new Error(`a ${inputSize}-byte input made the parser read into a ${this.maxRead}-byte buffer`);
    }
    this.maxRead = 0;
  }
}

export interface FileTarget {
  corpus: Uint8Array[];
  run(input: Uint8Array): Promise<unknown>;
  fs?: WatchedFs;
}

/** A store with a 2-member and a 1-member checkpoint; the corpus is every file they wrote. */
/** `inlineMax` 0 by default: member files and v1 manifests; INLINE_MAX: every member inline (v2). */
async function storeFixture(inlineMax = 0): Promise<{ fs: WatchedFs; files: Map<string, Uint8Array> }> {
  const fs = new WatchedFs();
  const s = await openStore("/s", { fs, chunkSize: 512, inlineMax });
  for (const [seed, count] of [[1, 2], [2, 1]] as const) {
    await s.save([...makeMembers(seed, count, 1500)].map(([name, data]) => ({ name, data })), {
      meta: { note: "fuzz" },
    });
  }
  await s.close();
  const files = new Map<string, Uint8Array>();
  for (const name of await fs.readdir("/s")) {
    if (name.startsWith("step-")) files.set(name, fs.peek(`/s/${name}`)!.slice());
  }
  return { fs, files };
}

export async function containerTarget(): Promise<FileTarget> {
  const { fs, files } = await storeFixture();
  await (await fs.open("/f", { write: true, create: true })).close();
  return {
    fs,
    corpus: [...files.values()],
    async run(input) {
      fs.poke("/f", input);
      const h = await fs.open("/f");
      try {
        let seen = 0;
        const r = await scanContainer(h, "/f", {
          onChunk: (p) => {
            seen += p.length;
          },
        });
        if (seen > input.length) {
          throw new Error(`chunks yielded ${seen} payload bytes from a ${input.length}-byte file`);
        }
        return r;
      } finally {
        await h.close();
        fs.checkReads(input.length);
      }
    },
  };
}

/** The manifest of step 1, fuzzed, checked with its real members beside it. */
export async function manifestTarget(): Promise<FileTarget> {
  const { fs, files } = await storeFixture();
  const path = `/s/${manifestName(1)}`;
  const names = [manifestName(1), memberName(1, 0), memberName(1, 1)];
  const members = [...files.entries()].filter(([n]) => n.startsWith(memberName(1, 0).slice(0, -1))).map(([, b]) => b);
  return {
    fs,
    corpus: [files.get(manifestName(1))!, files.get(manifestName(2))!],
    async run(input) {
      fs.poke(path, input);
      const r = await checkCheckpoint(fs, "/s", 1, names, async () => {});
      fs.checkReads(Math.max(input.length, ...members.map((m) => m.length)));
      return r;
    },
  };
}

/** One log segment with data records, a batch and a marker; fuzzed in place and scanned. */
export async function logTarget(): Promise<FileTarget> {
  const fs = new WatchedFs();
  const log = await openLog("/log", { fs });
  const enc = new TextEncoder();
  for (let i = 0; i < 6; i++) await log.append(enc.encode(`record ${i} `.repeat(i * 5 + 1)));
  await log.appendMany([enc.encode("a"), enc.encode("bb"), new Uint8Array(300)]);
  await log.mark(1);
  await log.append(new Uint8Array(0));
  await log.close();
  const seg = `/log/${segmentName(1)}`;
  const good = fs.peek(seg)!.slice();
  let salvage = false;
  return {
    fs,
    corpus: [good, good.subarray(0, good.length - 7)],
    async run(input) {
      fs.poke(seg, input);
      salvage = !salvage;
      let payload = 0;
      const r = await scanLog(fs, "/log", {
        salvage,
        onRecord: (x) => {
          payload += x.payload.length;
        },
      });
      if (payload > input.length * 2) {
        throw new Error(`replay yielded ${payload} payload bytes from a ${input.length}-byte segment`);
      }
      fs.checkReads(input.length);
      return r;
    },
  };
}

// ---- past the checksums ------------------------------------------------------------------
// Random damage almost never survives a CRC, so the decoders behind it would go untested. These
// targets mutate the inner structure and then seal it with valid checksums, as a hostile writer
// (not a failing disk) would: the member table inside a correctly sealed manifest, loaded with
// its real members; a batch record with a valid CRC at a log's tail; raw metadata blocks.

/** The step-1 member table, mutated, sealed into a valid manifest container, then load(1). */
export async function sealedManifestTarget(inline = false): Promise<FileTarget> {
  const { fs } = await storeFixture(inline ? INLINE_MAX : 0);
  const store = await openStore("/s", { fs, readOnly: true });
  const manifest = (await readManifest(fs, "/s", 1)).manifest!;
  const table = encodeMemberTable(manifest.members);
  const other = encodeMemberTable((await readManifest(fs, "/s", 2)).manifest!.members);
  const path = `/s/${manifestName(1)}`;
  const want = makeMembers(1, 2, 1500);
  const saved = [...want.values(), ...makeMembers(2, 1, 1500).values()];
  const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    fs,
    corpus: [table, other],
    async run(input) {
      // Inline: the table+inline form (members and their payloads in one), sealed as version 2.
      const form = inline
        ? { chunkType: CHUNK_TABLE_INLINE, version: INLINE_FORMAT_VERSION }
        : { chunkType: CHUNK_MEMBER_TABLE };
      const sealed = encodeContainer({
        kind: KIND_MANIFEST,
        meta: { "ckptkit.step": "1" },
        chunkSize: Math.max(1, Math.min(input.length, 1 << 19)),
        ...form,
        createdAt: 1,
      }, input).bytes;
      fs.poke(path, sealed);
      try {
        const got = await store.load(1);
        // A table that loads must describe exactly the members on disk: no silent other bytes.
        // An inline table carries its members: a hostile writer may seal any names and payloads
        // (integrity is not authenticity), but every payload it loads is one its SHA-256 vouches
        // for, so here one of the bytes the two saves wrote, never mutated ones.
        if (
          inline
            ? ![...got.members.values()].every((b) => saved.some((s) => sameBytes(s, b)))
            : !sameMembers(got.members, want)
        ) {
          throw new Error("a sealed, mutated member table loaded bytes the save did not write");
        }
        return got;
      } finally {
        fs.checkReads(Math.max(sealed.length, 4096));
      }
    },
  };
}

/** A batch record whose payload is mutated, appended with a valid CRC after good records. */
export async function sealedLogTarget(): Promise<FileTarget> {
  const t = await logTarget();
  const fs = new WatchedFs();
  const log = await openLog("/log", { fs });
  await log.append(new Uint8Array([1, 2, 3]));
  await log.close();
  const seg = `/log/${segmentName(1)}`;
  const prefix = fs.peek(seg)!.slice();
  const batch = encodeBatch([new Uint8Array(5), new Uint8Array(300).fill(7), new Uint8Array(0)]);
  return {
    fs,
    corpus: [batch, encodeBatch([new Uint8Array(1)]), t.corpus[0]!.subarray(32, 300)],
    async run(input) {
      const rec = encodeRecord(RECORD_BATCH, 2, input);
      const file = new Uint8Array(prefix.length + rec.length);
      file.set(prefix);
      file.set(rec, prefix.length);
      fs.poke(seg, file);
      let payload = 0;
      const r = await scanLog(fs, "/log", {
        onRecord: (x) => {
          payload += x.payload.length;
        },
      });
      if (payload > file.length) {
        throw new Error(`replay yielded ${payload} payload bytes from a ${file.length}-byte segment`);
      }
      fs.checkReads(file.length);
      return r;
    },
  };
}

/** Raw metadata blocks (what a container's metadata section holds, its CRC aside). */
export async function metadataTarget(): Promise<FileTarget> {
  return {
    corpus: [
      encodeMetadata({ "ckptkit.step": "1", "user.note": "fuzz", "": "" }),
      encodeMetadata({ k: "é".repeat(40) }),
    ],
    async run(input) {
      return decodeMetadata(input, "/meta", 0);
    },
  };
}
