// Reads an environment variable the same way in Node, Bun and Deno. Deno without --allow-env
// throws on access: that reads as unset, so every setting falls back to its default.
export function env(name: string): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env: { get(n: string): string | undefined } } };
  try {
    return g.process?.env?.[name] ?? g.Deno?.env.get(name);
  } catch {
    return undefined;
  }
}
