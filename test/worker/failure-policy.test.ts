import { describe, expect, it } from "vitest";
import {
  type FailurePolicy,
  failurePolicy,
  holdClose,
  isTerminal,
  isTerminalEvent,
  JobErrorKind,
  platformPaysProvider,
  RequestEventType,
  RequestStatus,
  voidGivesFreeCallBack,
} from "../../schemas/index.ts";

const fault: FailurePolicy = { hold: "void", freeCallBack: true, retry: "agent", platformPaysProvider: false };

/** The table as the broker, the ledger and the earnings step decided it before it was one function. */
const EXPECTED: Record<JobErrorKind, FailurePolicy> = {
  invalid_input: { hold: "void", freeCallBack: true, retry: "once_elsewhere", platformPaysProvider: false },
  oom: fault,
  runtime_error: fault,
  backend_crash: fault,
  model_unavailable: fault,
  timeout: fault,
  worker_lost: fault,
  no_capacity: fault,
  cancelled: { hold: "void", freeCallBack: false, retry: "agent", platformPaysProvider: false },
  submission_interrupted: fault,
  content_moderated: { hold: "void", freeCallBack: false, retry: "never", platformPaysProvider: true },
};

describe("failure policy", () => {
  it.each(JobErrorKind.options)("%s: what the caller is charged, the free call, the retry, the provider", (kind) => {
    expect(failurePolicy(kind)).toEqual(EXPECTED[kind]);
  });

  it("a kind outside the enum (an old row, a newer agent) is refused, not given a default", () => {
    expect(() => failurePolicy("melted" as JobErrorKind)).toThrow(/no failure policy/);
  });

  it("voids give the free call back for the ledger's own reasons and platform failures, not for the caller's", () => {
    // the ledger's list before the table: every failure kind but cancelled and content_moderated, and three more
    const back = [
      ...JobErrorKind.options.filter((k) => k !== "cancelled" && k !== "content_moderated"),
      "expired",
      "enqueue_failed",
      "idempotency_conflict",
    ];
    for (const r of back) expect(voidGivesFreeCallBack(r), r).toBe(true);
    for (const r of ["cancelled", "content_moderated", "failed", "", "released"])
      expect(voidGivesFreeCallBack(r), r).toBe(false);
  });

  it("only a completed job settles; every failure, with or without a kind, voids", () => {
    expect(holdClose("COMPLETED", null)).toBe("settle");
    for (const k of JobErrorKind.options) expect(holdClose("FAILED", k)).toBe("void");
    expect(holdClose("FAILED", null)).toBe("void");
    expect(holdClose("CANCELLED", "cancelled")).toBe("void");
  });

  it("the platform pays the provider's metered time only for blocked outputs", () => {
    expect(JobErrorKind.options.filter((k) => platformPaysProvider(k))).toEqual(["content_moderated"]);
    expect(platformPaysProvider(null)).toBe(false);
    expect(platformPaysProvider("expired")).toBe(false);
  });
});

describe("terminal statuses", () => {
  it("COMPLETED, FAILED and CANCELLED end a job or a run; QUEUED, PROCESSING and a node's PENDING do not", () => {
    expect(RequestStatus.options.filter(isTerminal)).toEqual(["COMPLETED", "FAILED", "CANCELLED"]);
    expect(isTerminal("PENDING")).toBe(false);
  });

  it("the terminal events are the terminal statuses in lower case", () => {
    expect(RequestEventType.options.filter(isTerminalEvent)).toEqual(
      RequestStatus.options.filter(isTerminal).map((s) => s.toLowerCase()),
    );
  });
});
