import type { JobErrorKind } from "../../schemas/index.ts";

/** A failure of one job, with the kind the platform records and whether another attempt could succeed. */
export class JobError extends Error {
  readonly kind: JobErrorKind;
  readonly retryable: boolean;
  constructor(kind: JobErrorKind, message: string, retryable = false) {
    super(message);
    this.kind = kind;
    this.retryable = retryable;
  }
}

/** The job was stopped by the platform (cancel, timeout, lost lease): drop it, report nothing. */
export class JobAborted extends Error {}
