// What the numbers were measured on: without the CPU's hash instructions, the core count and the
// filesystem under the bench directory, a ratio cannot be compared with anyone else's.
import { readFileSync, realpathSync } from "node:fs";
import * as os from "node:os";

export interface MachineInfo {
  cpu: string;
  cores: number;
  /** CPU flags that decide hashing speed (sha_ni: native SHA-256; avx2, pclmulqdq: fast CRC). */
  flags: Record<string, boolean>;
  memoryGiB: number;
  os: string;
  /** Filesystem type and device of the bench directory (from /proc/mounts, Linux only). */
  filesystem: { type: string; device: string; mountPoint: string } | null;
}

const FLAGS = ["sha_ni", "avx2", "avx512f", "pclmulqdq", "sse4_2"];

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The mount holding `dir`: the longest mount point that prefixes its real path. */
function filesystemOf(dir: string): MachineInfo["filesystem"] {
  const mounts = readText("/proc/mounts");
  if (!mounts) return null;
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // A directory that is not there yet is judged by the path given.
  }
  let best: MachineInfo["filesystem"] = null;
  for (const line of mounts.split("\n")) {
    const [device, mountPoint, type] = line.split(" ");
    if (!device || !mountPoint || !type) continue;
    const inside = mountPoint === "/" || real === mountPoint || real.startsWith(`${mountPoint}/`);
    if (inside && (!best || mountPoint.length >= best.mountPoint.length)) best = { type, device, mountPoint };
  }
  return best;
}

export function machineInfo(benchDir: string): MachineInfo {
  const cpus = os.cpus();
  const cpuinfo = readText("/proc/cpuinfo") ?? "";
  const flagLine = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(/\s+/) ?? [];
  return {
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    flags: Object.fromEntries(FLAGS.map((f) => [f, flagLine.includes(f)])),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    filesystem: filesystemOf(benchDir),
  };
}
