import type { Plan, PlanLimits } from "../../schemas/index.ts";
import type { HoldPricing } from "../services/pricing.ts";
import { isAmount } from "./account-ledger-adjust.ts";
import { dayOf, nextMidnight, type LedgerBook, type State } from "./account-ledger-book.ts";
import type { AdmitRequest, AdmitResult, RateInfo } from "./account-ledger-types.ts";
import { gcra } from "./gcra.ts";

const MINUTE = 60_000;
/** A hold whose job was not confirmed this long after the hold is checked against the broker by the alarm. */
export const RECONCILE_AFTER_MS = 30_000;

function rateInfo(limits: PlanLimits, tat: number | null, now: number): RateInfo {
  const d = gcra(tat, now, limits.rpm, MINUTE);
  return {
    limit: limits.rpm,
    remaining: d.allowed ? d.remaining + 1 : 0,
    reset_s: Math.ceil(Math.max(0, (tat ?? now) - now) / 1000),
  };
}

/**
 * Admission: rate limit (GCRA), daily quota, in-flight limit and the hold, decided in memory and written in one
 * transaction. Memory follows only once that transaction returned, so a throw leaves the book as it was.
 */
export function admit(
  book: LedgerBook,
  accountId: string,
  planHint: Plan,
  req: AdmitRequest,
  now: number,
): AdmitResult {
  const s = book.ensure(accountId, planHint);
  const { limits } = s;
  const available = s.deposits - s.spent - s.held;
  const replay = (): AdmitResult | null => {
    const h = book.pending.get(req.id) ?? book.hold(req.id);
    return h
      ? {
          ok: true,
          replayed: true,
          hold: h.amount,
          available,
          rate: rateInfo(limits, s.tat, now),
          priority: limits.priority,
        }
      : null;
  };
  if (book.pending.has(req.id)) return replay()!;
  if (!isAmount(req.amount) && req.amount !== 0)
    return {
      ok: false,
      code: "invalid_input",
      message: "hold amount must be a non-negative safe integer",
      available,
    };
  if (limits.free_models_only && !req.model_free)
    return { ok: false, code: "forbidden", message: `the ${s.plan} plan can call free models only`, available };

  // A refusal first checks that this is not the replay of a request admitted earlier (and closed since).
  const rate = gcra(s.tat, now, limits.rpm, MINUTE);
  const rateNow: RateInfo = {
    limit: limits.rpm,
    remaining: rate.remaining,
    reset_s: Math.ceil(rate.resetMs / 1000),
  };
  if (!rate.allowed) {
    return (
      replay() ?? {
        ok: false,
        code: "rate_limited",
        message: `rate limit of ${limits.rpm} requests per minute exceeded`,
        retry_after_s: Math.max(1, Math.ceil(rate.retryAfterMs / 1000)),
        available,
        rate: rateNow,
      }
    );
  }
  const day = dayOf(now);
  const used = book.usedToday(day);
  if (limits.daily_quota !== null && used >= limits.daily_quota) {
    return (
      replay() ?? {
        ok: false,
        code: "daily_quota_exceeded",
        message: `daily quota of ${limits.daily_quota} calls used; it resets at 00:00 UTC`,
        retry_after_s: Math.ceil((nextMidnight(now) - now) / 1000),
        available,
        rate: rateNow,
      }
    );
  }
  if (book.pending.size >= limits.in_flight) {
    return (
      replay() ?? {
        ok: false,
        code: "rate_limited",
        message: `at most ${limits.in_flight} requests may run at once on the ${s.plan} plan`,
        retry_after_s: 1,
        available,
        rate: rateNow,
      }
    );
  }
  // Free-plan calls are paid for by the quota, not by credit.
  const amount = limits.free_models_only ? 0 : req.amount;
  if (available < amount) {
    return (
      replay() ?? {
        ok: false,
        code: "insufficient_credits",
        message: `this request needs ${amount} micro-USD held; ${available} available`,
        available,
        rate: rateNow,
      }
    );
  }
  const pricing: HoldPricing = limits.free_models_only ? { kind: "fixed", amount: 0 } : req.pricing;
  const deadline = now + Math.max(0, req.ttl_ms);
  const job = req.job ?? null;
  const checkAt = job ? now + RECONCILE_AFTER_MS : null;
  const next: State = {
    ...s,
    held: s.held + amount,
    total_requests: s.total_requests + 1,
    tat: rate.tat,
    quota_day: day,
    quota_used: used + 1,
  };
  const inserted = book.tx(() => {
    // The hold's id is its primary key: a request id seen before (and already closed) inserts nothing.
    const ins = book.sql.exec(
      `INSERT INTO holds (id, amount, status, pricing, deadline, day, created_at, job_pool, job_model, check_at)
       VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      req.id,
      amount,
      JSON.stringify(pricing),
      deadline,
      day,
      now,
      job?.pool ?? null,
      job?.model ?? null,
      checkAt,
    );
    if (ins.rowsWritten === 0) return false;
    book.writeBalances(next);
    book.journal(book.seq + 1, `${req.id}:hold`, "hold", amount, req.id, null, now, next);
    return true;
  });
  if (!inserted) return replay()!;
  book.advance(next, 1);
  book.pending.set(req.id, { amount, pricing, deadline, day, job, checkAt });
  return {
    ok: true,
    replayed: false,
    hold: amount,
    available: available - amount,
    rate: rateNow,
    priority: limits.priority,
  };
}
