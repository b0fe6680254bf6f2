// Crafted stores for adversarial tests: a checkpoint with an arbitrary member table, written by
// the store's own member writer and the format's own manifest encoder (every CRC-32 and SHA-256
// sealed as a real save would), but with no name check. Only the names can be wrong, so a test
// that restores one exercises the name rule and nothing else (craftCheckpoint with good names
// verifies as valid: the test file checks that too).
import type { DurableFs } from "../../src/fs.ts";
import { encodeManifest, type MemberEntry } from "../../src/format/manifest.ts";
import { join } from "../../src/path.ts";
import { manifestName, memberName } from "../../src/store/layout.ts";
import { writeMember } from "../../src/store/member.ts";

export interface CraftedMember {
  name: string;
  data: Uint8Array;
}

/** Writes checkpoint `step` into the store directory `dir` exactly as save would, names unchecked. */
export async function craftCheckpoint(
  fs: DurableFs,
  dir: string,
  step: number,
  members: CraftedMember[],
  chunkSize = 1024,
): Promise<void> {
  const createdAt = Date.now();
  const entries: MemberEntry[] = [];
  for (let i = 0; i < members.length; i++) {
    entries.push(
      await writeMember({
        fs,
        path: join(dir, memberName(step, i)),
        source: members[i]!,
        step,
        index: i,
        chunkSize,
        createdAt,
        sync: false,
      }),
    );
  }
  const h = await fs.open(join(dir, manifestName(step)), { write: true, create: true, exclusive: true });
  try {
    await h.write(encodeManifest({ step, createdAt, meta: {}, members: entries }), 0);
  } finally {
    await h.close();
  }
}

const enc = new TextEncoder();

/** The bad member tables of guarantee 7, each with a label for messages. */
export function badTables(): { label: string; names: string[] }[] {
  const one = (label: string, name: string) => ({ label, names: [name] });
  return [
    one("..", ".."),
    one("../../x", "../../x"),
    one("absolute /etc/x", "/etc/x"),
    one("a/../../b", "a/../../b"),
    one("a//b", "a//b"),
    one("./a", "./a"),
    one("NUL", "a\0b"),
    one("newline", "a\nb"),
    one("backslash", "..\\..\\x"),
    one("DEL", "a\x7fb"),
    one("C1 control", "a\x9bb"),
    one("256-byte segment", "s".repeat(256)),
    one("1,025 bytes in all", `${"d/".repeat(512)}x`),
    one("empty", ""),
    { label: "duplicate names", names: ["dup.bin", "dup.bin"] },
    { label: "a file and a directory prefix", names: ["a", "a/b"] },
  ];
}

/** Members for a table of names, each with its own recognizable bytes. */
export function membersFor(names: string[]): CraftedMember[] {
  return names.map((name, i) => ({ name, data: enc.encode(`payload ${i} of ${JSON.stringify(name)}\n`.repeat(3)) }));
}

/**
 * A manifest of about `size` bytes of minimal member entries, sealed by the format's own
 * encoder: `minimal` gives 60-byte entries (empty names and file names, which no save writes);
 * otherwise short unique names and the layout's file names, which pass every per-entry check.
 * No member file exists: this is the hostile-table case of the contract's memory bound.
 */
export function craftManifestBytes(step: number, size: number, minimal: boolean): Uint8Array {
  const sha = new Uint8Array(32);
  const entry = (i: number): MemberEntry => ({
    name: minimal ? "" : i.toString(36),
    file: minimal ? "" : memberName(step, i),
    payloadSize: 0,
    fileSize: 0,
    chunkSize: 1,
    fileSha256: sha,
    blockCrcs: [],
  });
  const members: MemberEntry[] = [];
  for (let i = 0, total = 4; total < size; i++) {
    const m = entry(i);
    members.push(m);
    total += 60 + m.name.length + m.file.length;
  }
  return encodeManifest({ step, createdAt: 0, meta: {}, members });
}
