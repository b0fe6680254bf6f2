// Writes package.json and package-lock.json for an empty project that depends on the packed
// tarball, pinned to exactly the versions this repository's lockfile resolved for ckptkit's
// runtime dependencies. `npm ci --offline` then installs it from the npm cache alone (the
// tarballs `npm ci` fetched), with no registry metadata needed: the user's install, offline.
// Usage: node scripts/pack-lock.mjs <repo root> <project dir> <tarball file name>
import { readFileSync, writeFileSync } from "node:fs";

const [root, dir, tarball] = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(`${root}/package.json`, "utf8"));
const lock = JSON.parse(readFileSync(`${root}/package-lock.json`, "utf8"));
const packages = lock.packages;

/** Node's lookup: the nearest node_modules/<name> walking up from `from`. */
function resolve(name, from) {
  for (let base = from;;) {
    const key = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const i = base.lastIndexOf("/node_modules/");
    base = i < 0 ? "" : base.slice(0, i);
  }
}

// The closure of the runtime dependencies (optional ones only where the lockfile has them).
// ckptkit's own optional peers (AWS SDK, vega) are left out: this is the lean install users get.
const keep = new Set();
const queue = Object.keys(pkg.dependencies ?? {}).map((name) => [name, "", false]);
while (queue.length) {
  const [name, from, optional] = queue.shift();
  const key = resolve(name, from);
  if (!key) {
    if (optional) continue;
    throw new Error(`${name} (needed by ${from || "ckptkit"}) is not in package-lock.json`);
  }
  if (keep.has(key)) continue;
  keep.add(key);
  const entry = packages[key];
  for (const d of Object.keys(entry.dependencies ?? {})) queue.push([d, key, false]);
  for (const d of Object.keys(entry.optionalDependencies ?? {})) queue.push([d, key, true]);
  for (const d of Object.keys(entry.peerDependencies ?? {})) {
    queue.push([d, key, !!entry.peerDependenciesMeta?.[d]?.optional]);
  }
}

const spec = `file:${tarball}`;
const out = {
  name: "pack-check",
  version: "1.0.0",
  lockfileVersion: 3,
  requires: true,
  packages: {
    "": { name: "pack-check", version: "1.0.0", dependencies: { ckptkit: spec } },
    "node_modules/ckptkit": {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  },
};
for (const key of [...keep].sort()) {
  // Same paths as in the repository: its hoisting is valid here too, ckptkit's deps at the top.
  const { dev, devOptional, ...entry } = packages[key];
  out.packages[key] = entry;
}
writeFileSync(
  `${dir}/package.json`,
  JSON.stringify(
    { name: "pack-check", version: "1.0.0", private: true, type: "module", dependencies: { ckptkit: spec } },
    null,
    2,
  ),
);
writeFileSync(`${dir}/package-lock.json`, JSON.stringify(out, null, 2));
console.log(`pinned ${keep.size} packages for ${tarball}`);
