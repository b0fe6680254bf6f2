// Running one suite file directly (`npx tsx bench/log.ts`, `deno run -A bench/log.ts`,
// `bun bench/log.ts`) rather than through `ckpt bench`: the arguments, whether this module is the
// entry point, and a scratch directory under the working directory that is removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import process from "node:process";

const g = globalThis as { Deno?: { mainModule: string; args: string[] } };

export const args: string[] = g.Deno ? g.Deno.args : process.argv.slice(2);

export function isMain(moduleUrl: string): boolean {
  if (g.Deno) return g.Deno.mainModule === moduleUrl;
  const entry = process.argv[1];
  return entry !== undefined && moduleUrl.endsWith(entry.replace(/^.*\//, "/"));
}

export async function withScratch<T>(name: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(`${process.cwd()}/.bench-${name}-`);
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
