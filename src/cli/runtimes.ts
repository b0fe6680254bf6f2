// Finding the three runtimes, so one command can run the same CLI in each of them as child
// processes (`bench`, `crashtest --mode process`). A runtime that cannot be found is reported as
// such by the caller; it is never silently replaced by another.
import process from "node:process";
import { EnvironmentError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { dirname, join } from "../path.ts";
import type { CommandContext } from "./command.ts";

export const RUNTIMES = ["node", "deno", "bun"] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export function isRuntime(name: string): name is RuntimeName {
  return (RUNTIMES as readonly string[]).includes(name);
}

/** The package root (the directory with package.json above this module): a checkout or node_modules/ckptkit. */
export async function packageRoot(fs: DurableFs): Promise<string | undefined> {
  let dir = dirname(new URL(import.meta.url).pathname);
  for (let i = 0; i < 5; i++, dir = dirname(dir)) if (await fs.stat(join(dir, "package.json"))) return dir;
  return undefined;
}

/** An executable named `name`: in a node_modules/.bin at or above `from` (deno and bun come from npm), then on PATH. */
async function findBinary(fs: DurableFs, name: string, from: string | undefined): Promise<string | undefined> {
  for (let dir = from; dir && dir !== "/"; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules/.bin", name);
    if ((await fs.stat(candidate))?.isFile) return candidate;
    if (dirname(dir) === dir) break;
  }
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const candidate = join(dir, name);
    if ((await fs.stat(candidate))?.isFile) return candidate;
  }
  return undefined;
}

/**
 * The argv that runs this CLI in `rt`, or undefined if `rt` (or a CLI it can run) is not there.
 * The running runtime re-runs itself; Node runs the built dist/cli.js; Deno and Bun run the
 * TypeScript sources where they are present (a checkout) and dist/cli.js otherwise (a package).
 */
export async function cliArgvFor(ctx: CommandContext, rt: RuntimeName): Promise<string[] | undefined> {
  if (rt === ctx.runtime) return ctx.self;
  const root = await packageRoot(ctx.fs);
  if (!root) return undefined;
  const dist = join(root, "dist/cli.js");
  const source = join(root, "src/cli.ts");
  const hasDist = !!(await ctx.fs.stat(dist));
  const script = rt !== "node" && (await ctx.fs.stat(source)) ? source : hasDist ? dist : undefined;
  if (!script) return undefined;
  const bin = await findBinary(ctx.fs, rt, root);
  if (!bin) return undefined;
  return rt === "deno" ? [bin, "run", "-A", "--quiet", script] : [bin, script];
}

/** As cliArgvFor, but a runtime that is not there is an environment error (exit 3). */
export async function requireCliArgv(ctx: CommandContext, rt: RuntimeName): Promise<string[]> {
  const argv = await cliArgvFor(ctx, rt);
  if (!argv) {
    throw new EnvironmentError(
      "ENORUNTIME",
      rt === "node"
        ? "node or dist/cli.js not found (run `npm run build` for dist/cli.js)"
        : `runtime '${rt}' not found (install it with \`npm i -D ${rt}\`)`,
    );
  }
  return argv;
}

/** The runtime's version, as the runtime itself reports it. */
export function runtimeVersion(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return g.Deno.version.deno;
  if (g.Bun) return g.Bun.version;
  return process.versions.node ?? "unknown";
}
