// What recovery found after one kill, for the store (process.ts) and the log (process-log.ts)
// alike. A file of its own so that both judges import it from below: process.ts runs the log's
// trials too, so the log's judge importing the type from it would close a cycle.
export interface TrialVerdict {
  /** The newest step's status (a CheckpointReport status, or "none"); the log's: "valid" or "torn". */
  newest: string;
  /** Recovery found exactly the bytes some save (or the appends) wrote. */
  recoverable: boolean;
  /** Store: the newest valid checkpoint is not what its save wrote. Log: the replay is not exactly the appends, or has damage. */
  silent: boolean;
  /** An acknowledged save (or append) is missing. */
  ackedLost: boolean;
  /** Acknowledgements in the acks file. */
  acked: number;
  /** The newest acknowledged step (or sequence); 0 if none. */
  maxAck: number;
}
