// What a crash state holds, as lines a person can read in a report: every directory and file,
// a file's size and its first bytes (text when it is printable UTF-8, else hex).
import type { MemoryFs } from "../../adapters/memory.ts";

const PREVIEW = 48;
const MAX_LINES = 50;

function preview(data: Uint8Array): string {
  const head = data.subarray(0, PREVIEW);
  const more = data.length > PREVIEW ? "…" : "";
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(head);
    if (!/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) return `${JSON.stringify(text)}${more}`;
  } catch {
    // a multi-byte character cut at the preview's end, or not text: hex below
  }
  return `0x${[...head].map((x) => x.toString(16).padStart(2, "0")).join("")}${more}`;
}

export async function describeTree(mem: MemoryFs): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await mem.readdir(dir)).sort()) {
      if (lines.length >= MAX_LINES) return;
      const p = dir === "/" ? `/${name}` : `${dir}/${name}`;
      const st = await mem.stat(p);
      if (st?.isDirectory) {
        lines.push(`${p}/`);
        await walk(p);
      } else {
        const data = mem.peek(p) ?? new Uint8Array(0);
        lines.push(`${p} (${data.length} bytes)${data.length ? ` ${preview(data)}` : ""}`);
      }
    }
  };
  await walk("/");
  if (lines.length >= MAX_LINES) lines.push("…");
  return lines.length ? lines : ["(empty)"];
}
