// Units and summaries every suite shares, so a size reads the same in every table and chart.
export const KiB = 1024;
export const MiB = 1024 * KiB;

export function sizeLabel(n: number): string {
  if (n >= 1024 * MiB) return `${n / 1024 / MiB} GiB`;
  return n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: KiB, MiB: MiB, GiB: 1024 * MiB };

/**
 * The bytes a label names ("4 KiB", "group 4x1 MiB" → 4 MiB, "4 × 16 MiB" → 64 MiB), or undefined
 * for a label without a size. Facets and tables sort by this, never by the text ("1 MiB" < "4 KiB").
 */
export function labelBytes(label: string): number | undefined {
  const m = /(?:(\d+)\s*[x×]\s*)?(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)\b/.exec(label);
  if (!m) return undefined;
  return (m[1] ? Number(m[1]) : 1) * Number(m[2]) * UNIT_BYTES[m[3]!]!;
}

/** Labels in size order (smallest first); labels without a size keep their order, after the sized ones. */
export function inSizeOrder(labels: Iterable<string>): string[] {
  const list = [...new Set(labels)];
  const at = new Map(list.map((l, i) => [l, i]));
  const key = (l: string) => labelBytes(l) ?? Number.POSITIVE_INFINITY;
  return list.sort((a, b) => key(a) - key(b) || at.get(a)! - at.get(b)!);
}
