// Verification and inspection of a single file a save wrote (a member or a manifest). Anything
// else is malformed: reported as damage, never thrown.
import { CorruptionError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { KIND_MANIFEST, KIND_MEMBER } from "../format/constants.ts";
import { decodeMemberTable } from "../format/manifest.ts";
import { type ChunkInfo, type Damage, type ScanResult, scanContainer } from "../format/reader.ts";
import { MemberTableCollector } from "../format/table-reader.ts";
import { toHex } from "../hash.ts";

export interface FileReport {
  path: string;
  ok: boolean;
  kind: "member" | "manifest" | "unknown";
  fileSize: number;
  damage: Damage[];
  scan: ScanResult;
  chunks: ChunkInfo[];
  members?: { name: string; file: string; payloadSize: number; fileSize: number; sha256: string; blocks: number }[];
}

export async function verifyFile(fs: DurableFs, path: string, collectChunks = false): Promise<Omit<FileReport, "scan" | "chunks"> & Partial<FileReport>> {
  const chunks: ChunkInfo[] = [];
  const t = new MemberTableCollector(); // a manifest's table may span N ≥ 1 chunks
  const h = await fs.open(path);
  let scan: ScanResult;
  try {
    scan = await scanContainer(h, path, {
      onHeader: t.onHeader,
      onChunk: (p, info) => {
        if (collectChunks) chunks.push(info);
        t.onChunk(p, info);
      },
    });
  } finally {
    await h.close();
  }
  const kind = scan.header?.kind === KIND_MEMBER ? "member" : scan.header?.kind === KIND_MANIFEST ? "manifest" : "unknown";
  const damage = [...scan.damage];
  let members: FileReport["members"];
  if (kind === "manifest" && t.wrongType) damage.push({ kind: "bad-chunk", offset: 0, length: 0, message: "a manifest chunk is not of type member-table" });
  if (kind === "manifest" && damage.length === 0 && t.table && !t.wrongType) {
    try {
      members = decodeMemberTable(t.table, path, t.fileOffset).map((m) => ({ name: m.name, file: m.file, payloadSize: m.payloadSize, fileSize: m.fileSize, sha256: toHex(m.fileSha256), blocks: m.blockCrcs.length }));
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      damage.push({ kind: "bad-chunk", offset: err.offset, length: 0, message: err.message });
    }
  }
  const base = { path, ok: damage.length === 0, kind: kind as FileReport["kind"], fileSize: scan.fileSize, damage, members };
  return collectChunks ? { ...base, scan, chunks } : base;
}
