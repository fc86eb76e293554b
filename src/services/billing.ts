import { type AccountView, holdClose, type ModelDefinition, type Plan } from "../../schemas/index.ts";
import type {
  AccountLedger,
  AdmitResult,
  HoldOutcome,
  AdjustResult,
  LedgerSummary,
  RateInfo,
} from "../durable-objects/account-ledger.ts";
import { ApiError } from "../errors.ts";
import { config, type Env } from "../env.ts";
import { quote } from "./pricing.ts";
import { afterClose, earnerFor } from "./payments/earnings.ts";

export interface Admission {
  held: number;
  available: number;
  rate: RateInfo;
  priority: number;
}

type LedgerApi = Pick<
  AccountLedger,
  | "admit"
  | "settle"
  | "void"
  | "outcome"
  | "adjust"
  | "grantMonthly"
  | "summary"
  | "setPlan"
  | "holdCounts"
  | "reserveGroup"
  | "settleNode"
  | "closeGroup"
>;

/** The account's ledger object: the one typed way to reach it (src/env.ts leaves the namespace untyped). */
export function ledger(env: Pick<Env, "ACCOUNT_LEDGER">, accountId: string): LedgerApi {
  return env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(accountId)) as unknown as LedgerApi;
}

/** Grace after the last moment a job could still finish (queue TTL + execution timeout) before its hold expires. */
const HOLD_GRACE_MS = 5 * 60_000;

export function rateHeaders(rate: RateInfo | undefined, available: number): Record<string, string> {
  return {
    "x-remaining-credits": String(available),
    ...(rate
      ? {
          "RateLimit-Limit": String(rate.limit),
          "RateLimit-Remaining": String(rate.remaining),
          "RateLimit-Reset": String(rate.reset_s),
        }
      : {}),
  };
}

/**
 * Credits and limits on the request path, backed by one AccountLedger DO per account. `admit` runs after validation
 * and before the job is queued (one ledger call: rate limit, quota, in-flight limit, hold); `closeHold` runs when the
 * request finishes (settle on COMPLETED, void otherwise), from the agent's callback and again from the events queue:
 * both are idempotent by request id, so whichever comes second returns the first outcome.
 */
export class Billing {
  constructor(private env: Env) {}

  /** `pool`: the broker pool the job will be queued in; the ledger's reconciler checks the job exists there. */
  async admit(
    accountId: string,
    plan: Plan,
    requestId: string,
    model: ModelDefinition,
    input: Record<string, unknown>,
    pool?: string,
  ): Promise<Admission> {
    const { hold, pricing } = quote(model, input);
    const ttl = config(this.env).JOB_TTL_S * 1000 + model.max_execution_s * 1000 + HOLD_GRACE_MS;
    const job = pool !== undefined ? { pool, model: model.slug } : undefined;
    const r: AdmitResult = await ledger(this.env, accountId).admit(accountId, plan, {
      id: requestId,
      amount: hold,
      pricing,
      ttl_ms: ttl,
      model_free: model.free,
      ...(job ? { job } : {}),
    });
    if (!r.ok) {
      const headers = {
        ...rateHeaders(r.rate, r.available),
        ...(r.retry_after_s !== undefined ? { "Retry-After": String(r.retry_after_s) } : {}),
      };
      throw new ApiError(
        r.code,
        r.message,
        r.code === "insufficient_credits" ? { required: hold, available: r.available } : undefined,
        headers,
      );
    }
    return { held: r.hold, available: r.available, rate: r.rate, priority: r.priority };
  }

  /** Closes the request's hold: settle on COMPLETED, void otherwise. */
  async closeHold(
    accountId: string,
    requestId: string,
    outcome: {
      status: string;
      gpu_ms: number | null;
      gpu_class: string | null;
      reason?: string | null;
      agent_id?: string | null;
      model?: string;
    },
  ): Promise<HoldOutcome | null> {
    const l = ledger(this.env, accountId);
    // The agent that ran the job (from the broker's lease) decides whose earnings the charge is split into.
    const earner =
      outcome.agent_id && outcome.model ? await earnerFor(this.env, outcome.agent_id, outcome.model) : null;
    const r =
      holdClose(outcome.status, outcome.reason) === "settle"
        ? await l.settle(
            requestId,
            Math.max(0, Math.round(outcome.gpu_ms ?? 0)),
            outcome.gpu_class,
            earner ?? undefined,
          )
        : await l.void(requestId, outcome.reason ?? outcome.status.toLowerCase());
    if (!("error" in r) && (r.auto_recharge || earner)) {
      // The events queue repeats this for every finished request, so a failure here is logged, not thrown.
      await afterClose(this.env, accountId, requestId, r, outcome, earner).catch((e) =>
        console.error(
          JSON.stringify({
            level: "warn",
            message: "after-settle step failed; the events queue repeats it",
            request_id: requestId,
            error: String(e),
          }),
        ),
      );
    }
    return "error" in r ? null : r;
  }

  async cost(accountId: string, requestId: string): Promise<number | null> {
    const o = await ledger(this.env, accountId).outcome(requestId);
    return o && o.status !== "pending" ? o.charge : null;
  }

  summary(accountId: string, plan: Plan): Promise<LedgerSummary> {
    return ledger(this.env, accountId).summary(accountId, plan);
  }

  adjust(
    accountId: string,
    plan: Plan,
    kind: "credit" | "debit",
    opId: string,
    amount: number,
    reason: string,
  ): Promise<AdjustResult> {
    return ledger(this.env, accountId).adjust(accountId, plan, kind, opId, amount, reason);
  }
}

export function billing(env: Env): Billing {
  return new Billing(env);
}

export function accountView(s: LedgerSummary): AccountView {
  return {
    id: s.account_id,
    plan: s.plan,
    limits: s.limits,
    balance: s.deposits - s.spent,
    held: s.held,
    available: s.available,
    spent: s.spent,
    in_flight: s.in_flight,
    requests_today: s.requests_today,
    total_requests: s.total_requests,
    daily_quota: {
      used: s.requests_today,
      limit: s.limits.daily_quota,
      resets_at: new Date(s.daily_reset_at).toISOString(),
    },
  };
}

export function currentPeriod(now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 7);
}
