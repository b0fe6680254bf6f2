// The error a store call throws for a checkpoint that is not valid. Its own module so that
// restore.ts and store.ts both use it without importing each other (no cycle).
import { CorruptionError } from "../errors.ts";
import type { CheckpointReport } from "./check.ts";

export function assertValid(report: CheckpointReport): void {
  if (report.status === "valid") return;
  const f = report.findings[0]!;
  throw new StoreCorruption(report, `checkpoint ${report.step} is ${report.status}: ${f.message}`);
}

export class StoreCorruption extends CorruptionError {
  constructor(readonly report: CheckpointReport, message: string) {
    const f = report.findings[0]!;
    super(f.file, f.offset, f.kind, message);
  }
}
