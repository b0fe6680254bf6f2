// One thing wrong with a checkpoint, as check.ts reports it. A file of its own so that check.ts
// and the cap on findings it uses (finding-cap.ts) both import it from below: finding-cap.ts
// taking the type from check.ts closed a cycle.
export type FindingKind =
  | "crc-mismatch"
  | "sha-mismatch"
  | "truncated"
  | "bad-header"
  | "missing-member"
  | "torn"
  | "incomplete"
  | "bad-name";

export interface Finding {
  step: number;
  file: string;
  member?: string;
  kind: FindingKind;
  block?: number;
  offset: number;
  length: number;
  message: string;
  /** On a summary finding only: how many findings of its kind it stands for (src/store/finding-cap.ts). */
  count?: number;
}
