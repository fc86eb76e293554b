import { JobErrorKind } from "./errors.ts";

/**
 * What a failed job costs, decided once per failure kind. The broker (retries, metered time), the ledger (the void and
 * the free call) and the earnings step (who pays the provider) read this table instead of keeping their own lists, so
 * a new kind in `JobErrorKind` does not compile until every one of these questions has an answer.
 */
export interface FailurePolicy {
  /** How the caller's hold closes. Every failure voids it today: the caller pays only for a completed job. */
  hold: "void" | "settle";
  /** Whether the void gives a free-plan call (one of the day's quota) back: the platform failed, not the caller. */
  freeCallBack: boolean;
  /**
   * Whether the broker requeues an agent's report of this kind while attempts remain. `agent`: when the agent calls
   * it retryable. `once_elsewhere`: one more run whatever the agent says, ranked away from the agent that reported it
   * (the platform's own validation accepted the input, so one agent's word is not enough). `never`: final at once.
   */
  retry: "agent" | "once_elsewhere" | "never";
  /**
   * Whether the failed job keeps the agent's metered GPU time and the platform pays the provider's share of it: the
   * provider did valid work that the platform threw away for its own reasons.
   */
  platformPaysProvider: boolean;
}

/** A failure of the platform or the provider: the caller pays nothing and gets the call back; the agent may retry. */
const PLATFORM_FAULT: FailurePolicy = { hold: "void", freeCallBack: true, retry: "agent", platformPaysProvider: false };

export function failurePolicy(kind: JobErrorKind): FailurePolicy {
  switch (kind) {
    case "oom":
    case "runtime_error":
    case "backend_crash":
    case "model_unavailable":
    case "timeout":
    case "worker_lost":
    case "no_capacity":
    // a crash cut the submission off before its job was queued (the broker's reconciler fails it)
    case "submission_interrupted":
      return PLATFORM_FAULT;
    case "invalid_input":
      // Caller-side invalid input is refused before any hold; this is input the platform accepted and agents then
      // rejected, so the call is given back.
      return { hold: "void", freeCallBack: true, retry: "once_elsewhere", platformPaysProvider: false };
    case "cancelled":
      // The caller's own choice: nothing is charged, but the call counts. (The broker finishes a cancelled job itself;
      // an agent reporting this kind is treated like any other report.)
      return { hold: "void", freeCallBack: false, retry: "agent", platformPaysProvider: false };
    case "content_moderated":
      // Moderation blocked the output: running the same model again would be paid again, so it is final; the caller
      // is not charged for an output it never gets, and the platform pays the provider for valid work.
      return { hold: "void", freeCallBack: false, retry: "never", platformPaysProvider: true };
    default: {
      const never: never = kind;
      throw new Error(`no failure policy for ${String(never)}`);
    }
  }
}

/**
 * Void reasons that are not failure kinds and give the free call back: a hold past its deadline, a job the platform
 * could not queue, and the loser of two concurrent uses of one Idempotency-Key.
 */
const OTHER_FREE_CALL_BACK: ReadonlySet<string> = new Set(["expired", "enqueue_failed", "idempotency_conflict"]);

/**
 * Whether voiding a hold for `reason` (a failure kind, or one of the ledger's own reasons) gives the free call back.
 * Any other reason (`cancelled`, `failed` for a job with no kind) keeps the call counted.
 */
export function voidGivesFreeCallBack(reason: string): boolean {
  const kind = JobErrorKind.safeParse(reason);
  return kind.success ? failurePolicy(kind.data).freeCallBack : OTHER_FREE_CALL_BACK.has(reason);
}

/** Whether a failure reason (a finished job's `error_kind`) keeps metered GPU time that the platform pays for. */
export function platformPaysProvider(reason: string | null | undefined): boolean {
  const kind = JobErrorKind.safeParse(reason);
  return kind.success && failurePolicy(kind.data).platformPaysProvider;
}

/** How a finished job's hold closes: a completed job settles its measured time, a failed one as its kind says. */
export function holdClose(status: string, reason: string | null | undefined): "settle" | "void" {
  if (status === "COMPLETED") return "settle";
  const kind = JobErrorKind.safeParse(reason);
  return kind.success ? failurePolicy(kind.data).hold : "void";
}
