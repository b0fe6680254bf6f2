// Findings stay bounded whatever the store holds: a member with millions of damaged blocks, or a
// manifest listing millions of missing members, would otherwise become millions of objects (the
// contract: no allocation sized by an untrusted field). As the format's reader does for blocks
// (MAX_BLOCK_DAMAGE), the first MAX_FINDINGS are kept one by one and the rest are counted: one
// summary finding per kind, so a checkpoint's status (torn vs corrupt) is the same as if every
// finding had been kept.
import { MAX_BLOCK_DAMAGE } from "../format/reader.ts";
import type { Finding, FindingKind } from "./finding.ts";

export const MAX_FINDINGS = MAX_BLOCK_DAMAGE;

interface Omitted {
  count: number;
  findings: number;
  first: Finding;
  last: Finding;
  lastMake?: () => Finding;
}

export class CappedFindings {
  private readonly kept: Finding[] = [];
  private readonly omitted = new Map<FindingKind, Omitted>();

  constructor(private readonly limit = MAX_FINDINGS, private readonly unit = "finding") {}

  /** Whether the next finding would be kept one by one (else it is only counted). */
  get keeping(): boolean {
    return this.kept.length < this.limit;
  }

  /**
   * Counts one more omitted finding of `kind` with no object built for it: `make` runs only for
   * the first of its kind (the summary's start); the last `make` is kept and run once, in list().
   */
  count(kind: FindingKind, make: () => Finding): void {
    if (this.keeping) return this.add(make());
    const o = this.omitted.get(kind);
    if (o) {
      o.count++;
      o.findings++;
      o.lastMake = make;
    } else {
      const f = make();
      this.omitted.set(kind, { count: f.count ?? 1, findings: 1, first: f, last: f });
    }
  }

  add(f: Finding): void {
    if (this.kept.length < this.limit) {
      this.kept.push(f);
      return;
    }
    const o = this.omitted.get(f.kind);
    if (o) {
      o.count += f.count ?? 1;
      o.findings++;
      o.last = f;
      o.lastMake = undefined;
    } else {
      this.omitted.set(f.kind, { count: f.count ?? 1, findings: 1, first: f, last: f });
    }
  }

  addAll(fs: Iterable<Finding>): void {
    for (const f of fs) this.add(f);
  }

  /** The kept findings, then one per omitted kind counting what was left out. */
  list(): Finding[] {
    const out = [...this.kept];
    for (const [kind, o] of this.omitted) {
      // One omitted finding (e.g. a member's own summary) is shown as it is.
      if (o.findings === 1) {
        out.push(o.first);
        continue;
      }
      const first = o.first;
      const last = o.lastMake ? o.lastMake() : o.last;
      const where = first.block !== undefined && first.file === last.file
        ? `, from block ${first.block} to ${last.block} of ${first.file}`
        : first.file === last.file
        ? ` in ${first.file}`
        : `, from ${first.file} to ${last.file}`;
      out.push({
        step: first.step,
        file: first.file,
        member: first.member === last.member ? first.member : undefined,
        kind,
        block: first.block,
        offset: first.offset,
        length: first.file === last.file ? last.offset + last.length - first.offset : first.length,
        count: o.count,
        message: `${o.count} more ${kind} ${this.unit}${o.count === 1 ? "" : "s"} not listed${where}`,
      });
    }
    return out;
  }
}
