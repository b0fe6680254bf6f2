// Verification and inspection of a single file a save wrote (a member or a manifest). Anything
// else is malformed: reported as damage, never thrown. Streaming: memory does not grow with the
// chunk count (a 99 MB member of 1-byte chunks is 3 million chunks); inspect keeps the first
// `chunkLimit` chunks in detail and counts the rest.
import { CorruptionError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { KIND_MANIFEST, KIND_MEMBER } from "../format/constants.ts";
import { decodeMemberTable, inlineIntact } from "../format/manifest.ts";
import { memberNamesProblem } from "../format/member-name.ts";
import { type ChunkInfo, type Damage, scanContainer, type ScanResult } from "../format/reader.ts";
import { MemberTableCollector } from "../format/table-reader.ts";
import { toHex } from "../hash.ts";
import { checkStep, memberFilePrefix } from "../store/layout.ts";

/**
 * Chunks `inspect` shows in detail. A file may hold millions (1-byte chunks): beyond this many only
 * the counts are kept, so memory and output stay bounded whatever the file (the contract's RSS bound).
 */
export const INSPECT_CHUNKS = 1000;

export interface FileReport {
  path: string;
  ok: boolean;
  kind: "member" | "manifest" | "unknown";
  fileSize: number;
  damage: Damage[];
  scan: ScanResult;
  /** The first `chunkLimit` chunks, in order. */
  chunks: ChunkInfo[];
  /** Every chunk read, and how many of them failed their check. */
  chunkStats: { total: number; bad: number };
  /** A manifest's first INSPECT_CHUNKS members (a crafted table may list millions), and the count of all. */
  members?: {
    name: string;
    file: string;
    payloadSize: number;
    fileSize: number;
    sha256: string;
    blocks: number;
    inline?: true;
  }[];
  memberCount?: number;
}

export async function verifyFile(
  fs: DurableFs,
  path: string,
  chunkLimit = 0,
): Promise<Omit<FileReport, "scan" | "chunks" | "chunkStats"> & Partial<FileReport>> {
  const chunks: ChunkInfo[] = [];
  const chunkStats = { total: 0, bad: 0 };
  const t = new MemberTableCollector(); // a manifest's table may span N ≥ 1 chunks
  const h = await fs.open(path);
  let scan: ScanResult;
  try {
    scan = await scanContainer(h, path, {
      onHeader: t.onHeader,
      onChunk: (p, info) => {
        chunkStats.total++;
        if (!info.ok) chunkStats.bad++;
        if (chunks.length < chunkLimit) chunks.push(info);
        t.onChunk(p, info);
      },
    });
  } finally {
    await h.close();
  }
  const kind = scan.header?.kind === KIND_MEMBER
    ? "member"
    : scan.header?.kind === KIND_MANIFEST
    ? "manifest"
    : "unknown";
  const damage = [...scan.damage];
  let members: FileReport["members"];
  let memberCount: number | undefined;
  if (kind === "manifest" && t.wrongType) {
    damage.push({
      kind: "bad-chunk",
      offset: 0,
      length: 0,
      message: "a manifest chunk is not of type member-table (or all table+inline)",
    });
  }
  if (kind === "manifest" && damage.length === 0 && t.table && !t.wrongType) {
    try {
      // Member file names follow from the step (the layout): decode holds each entry to it.
      const rawStep = scan.meta?.["ckptkit.step"];
      let step: number;
      try {
        step = checkStep(Number(rawStep));
      } catch {
        throw new CorruptionError(
          path,
          0,
          "bad-manifest",
          `${path}: manifest records no valid step (${JSON.stringify(rawStep)})`,
        );
      }
      const decoded = decodeMemberTable(
        t.table,
        path,
        t.fileOffset,
        memberFilePrefix(step),
        t.inline ? path : undefined,
      );
      // An inline member is checked here whole: its payload is in this file.
      for (const m of decoded) {
        if (m.inline && !inlineIntact(m)) {
          damage.push({
            kind: "sha-mismatch",
            offset: 0,
            length: 0,
            message: `inline member ${JSON.stringify(m.name)}: SHA-256 of its payload differs from its entry's`,
          });
        }
      }
      // The names are reported as data (never used as paths); a bad one makes the file malformed.
      const named = memberNamesProblem(decoded.map((m) => m.name));
      if (named) {
        damage.push({
          kind: "bad-chunk",
          offset: t.fileOffset(0),
          length: t.table.length,
          message: `bad-name: member ${named.index} has a bad name ${JSON.stringify(named.name)}: ${named.problem}`,
        });
      }
      memberCount = decoded.length;
      members = decoded.slice(0, INSPECT_CHUNKS).map((m) => ({
        name: m.name,
        file: m.file,
        payloadSize: m.payloadSize,
        fileSize: m.fileSize,
        sha256: toHex(m.fileSha256),
        blocks: m.blockCrcs.length,
        ...(m.inline ? { inline: true as const } : {}),
      }));
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      damage.push({ kind: "bad-chunk", offset: err.offset, length: 0, message: err.message });
    }
  }
  const base = {
    path,
    ok: damage.length === 0,
    kind: kind as FileReport["kind"],
    fileSize: scan.fileSize,
    damage,
    members,
    memberCount,
  };
  return chunkLimit > 0 ? { ...base, scan, chunks, chunkStats } : base;
}
