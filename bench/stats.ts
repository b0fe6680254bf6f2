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
