import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { PLAN_DEFAULTS, type Plan, type PlanLimits } from "../../schemas/index.ts";
import { charge as priceOf, type HoldPricing } from "../services/pricing.ts";
import { LEDGER_MIGRATIONS, type HoldRow, type StateRow } from "./account-ledger-sql.ts";
import { gcra } from "./gcra.ts";

const MINUTE = 60_000;
/** Void reasons that give a free call back: the platform failed, not the caller. */
const QUOTA_REFUND_REASONS = new Set(["worker_lost", "timeout", "no_capacity", "backend_crash", "runtime_error", "model_unavailable", "oom", "expired", "enqueue_failed"]);

export interface AdmitRequest {
  /** the request id: reserve, settle and void of a request are idempotent by it */
  id: string;
  amount: number;
  pricing: HoldPricing;
  /** ms after now when the hold is voided if nothing resolved it */
  ttl_ms: number;
  model_free: boolean;
}

export interface RateInfo {
  limit: number;
  remaining: number;
  reset_s: number;
}

export type AdmitResult =
  | { ok: true; replayed: boolean; hold: number; available: number; rate: RateInfo; priority: number }
  | { ok: false; code: "insufficient_credits" | "rate_limited" | "daily_quota_exceeded" | "forbidden" | "invalid_input"; message: string; retry_after_s?: number; available: number; rate?: RateInfo };

export interface HoldOutcome {
  status: HoldRow["status"];
  amount: number;
  charge: number;
  /** false when this call found the hold already resolved and returned its first outcome */
  first: boolean;
  /** the account's available credit after this call */
  available: number;
}

export type OpResult =
  | { ok: true; op_id: string; kind: "credit" | "debit"; amount: number; available: number; replayed: boolean }
  | { ok: false; code: "insufficient_credits" | "invalid_input" | "idempotency_conflict"; message: string };

export interface LedgerSummary {
  account_id: string;
  plan: Plan;
  limits: PlanLimits;
  deposits: number;
  spent: number;
  held: number;
  available: number;
  in_flight: number;
  requests_today: number;
  total_requests: number;
  daily_reset_at: number;
}

const isAmount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const nextMidnight = (ms: number) => Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), new Date(ms).getUTCDate() + 1);

/**
 * One per account: money and limits, TigerBeetle-style. `available = deposits - spent - held`; a hold is reserved
 * before a job runs, then resolved exactly once (settled on the measured GPU time, voided on any failure, expired by
 * the alarm); every movement is a journal entry with an operation id. Rate limit (GCRA), daily quota, in-flight limit
 * and the hold are decided in one synchronous SQLite transaction per request.
 */
export class AccountLedger extends DurableObject<Env> {
  private sql: SqlStorage;
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      for (const s of LEDGER_MIGRATIONS) this.sql.exec(s);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- state ----------------------------------------------------------------------------------------------------

  private state(): StateRow | undefined {
    return this.sql.exec<StateRow>(`SELECT * FROM state WHERE id = 1`).toArray()[0] as StateRow | undefined;
  }

  /** Creates the account's state on first use; idempotent. */
  private ensure(accountId: string, plan: Plan): StateRow {
    const s = this.state();
    if (s) return s;
    this.sql.exec(`INSERT INTO state (id, account_id, plan, limits) VALUES (1, ?, ?, ?)`, accountId, plan, JSON.stringify(PLAN_DEFAULTS[plan]));
    return this.state()!;
  }

  private limits(s: StateRow): PlanLimits {
    return JSON.parse(s.limits) as PlanLimits;
  }

  private journal(opId: string, kind: string, amount: number, holdId: string | null, reason: string | null, now: number): void {
    const s = this.state()!;
    this.sql.exec(
      `INSERT INTO journal (op_id, kind, amount, hold_id, reason, created_at, deposits, spent, held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      opId, kind, amount, holdId, reason, now, s.deposits, s.spent, s.held,
    );
  }

  private available(): number {
    const s = this.state();
    return s ? s.deposits - s.spent - s.held : 0;
  }

  private inFlight(): number {
    return this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM holds WHERE status = 'pending'`).one().n;
  }

  private dailyCount(day: string): number {
    return this.sql.exec<{ count: number }>(`SELECT count FROM daily WHERE day = ?`, day).toArray()[0]?.count ?? 0;
  }

  async setPlan(accountId: string, plan: Plan, overrides: Partial<PlanLimits> = {}): Promise<PlanLimits> {
    this.ensure(accountId, plan);
    const limits = { ...PLAN_DEFAULTS[plan], ...overrides };
    this.sql.exec(`UPDATE state SET plan = ?, limits = ? WHERE id = 1`, plan, JSON.stringify(limits));
    return limits;
  }

  // ---- the request path -----------------------------------------------------------------------------------------

  /** Rate limit + daily quota + in-flight limit + credit hold, decided and written in one transaction. */
  async admit(accountId: string, planHint: Plan, req: AdmitRequest): Promise<AdmitResult> {
    const now = Date.now();
    const result = this.ctx.storage.transactionSync((): AdmitResult => {
      const s = this.ensure(accountId, planHint);
      const available = s.deposits - s.spent - s.held;
      const existing = this.hold(req.id);
      const limits = this.limits(s);
      const rateNow = (): RateInfo => {
        const tat = this.sql.exec<{ tat: number }>(`SELECT tat FROM gcra WHERE key = 'rpm'`).toArray()[0]?.tat ?? now;
        const d = gcra(tat, now, limits.rpm, MINUTE);
        return { limit: limits.rpm, remaining: d.allowed ? d.remaining + 1 : 0, reset_s: Math.ceil(Math.max(0, tat - now) / 1000) };
      };
      if (existing) return { ok: true, replayed: true, hold: existing.amount, available, rate: rateNow(), priority: limits.priority };
      if (!isAmount(req.amount) && req.amount !== 0) return { ok: false, code: "invalid_input", message: "hold amount must be a non-negative safe integer", available };
      if (limits.free_models_only && !req.model_free) return { ok: false, code: "forbidden", message: `the ${s.plan} plan can call free models only`, available };

      const stored = this.sql.exec<{ tat: number }>(`SELECT tat FROM gcra WHERE key = 'rpm'`).toArray()[0]?.tat ?? null;
      const rate = gcra(stored, now, limits.rpm, MINUTE);
      const rateInfo: RateInfo = { limit: limits.rpm, remaining: rate.remaining, reset_s: Math.ceil(rate.resetMs / 1000) };
      if (!rate.allowed) {
        return { ok: false, code: "rate_limited", message: `rate limit of ${limits.rpm} requests per minute exceeded`, retry_after_s: Math.max(1, Math.ceil(rate.retryAfterMs / 1000)), available, rate: rateInfo };
      }
      const day = dayOf(now);
      const used = this.dailyCount(day);
      if (limits.daily_quota !== null && used >= limits.daily_quota) {
        return { ok: false, code: "daily_quota_exceeded", message: `daily quota of ${limits.daily_quota} calls used; it resets at 00:00 UTC`, retry_after_s: Math.ceil((nextMidnight(now) - now) / 1000), available, rate: rateInfo };
      }
      if (this.inFlight() >= limits.in_flight) {
        return { ok: false, code: "rate_limited", message: `at most ${limits.in_flight} requests may run at once on the ${s.plan} plan`, retry_after_s: 1, available, rate: rateInfo };
      }
      // Free-plan calls are paid for by the quota, not by credit.
      const amount = limits.free_models_only ? 0 : req.amount;
      if (available < amount) {
        return { ok: false, code: "insufficient_credits", message: `this request needs ${amount} micro-USD held; ${available} available`, available, rate: rateInfo };
      }
      this.sql.exec(`INSERT INTO gcra (key, tat) VALUES ('rpm', ?) ON CONFLICT(key) DO UPDATE SET tat = excluded.tat`, rate.tat);
      this.sql.exec(`INSERT INTO daily (day, count) VALUES (?, 1) ON CONFLICT(day) DO UPDATE SET count = count + 1`, day);
      this.sql.exec(
        `INSERT INTO holds (id, amount, status, pricing, deadline, day, created_at) VALUES (?, ?, 'pending', ?, ?, ?, ?)`,
        req.id, amount, JSON.stringify(limits.free_models_only ? { kind: "fixed", amount: 0 } : req.pricing), now + Math.max(0, req.ttl_ms), day, now,
      );
      this.sql.exec(`UPDATE state SET held = held + ?, total_requests = total_requests + 1 WHERE id = 1`, amount);
      this.journal(`${req.id}:hold`, "hold", amount, req.id, null, now);
      return { ok: true, replayed: false, hold: amount, available: available - amount, rate: rateInfo, priority: limits.priority };
    });
    if (result.ok && !result.replayed) await this.schedule(now + Math.max(0, req.ttl_ms));
    return result;
  }

  /** Settles a hold on the measured GPU time: charge = min(hold, price). A resolved hold returns its first outcome. */
  async settle(id: string, gpuMs: number, gpuClass: string | null): Promise<HoldOutcome | { error: "not_found" | "invalid_input" }> {
    if (!Number.isSafeInteger(gpuMs) || gpuMs < 0) return { error: "invalid_input" };
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => {
      const h = this.hold(id);
      if (!h) return { error: "not_found" as const };
      if (h.status !== "pending") return { status: h.status, amount: h.amount, charge: h.charge, first: false, available: this.available() };
      const c = priceOf(JSON.parse(h.pricing) as HoldPricing, h.amount, gpuMs, gpuClass);
      this.sql.exec(`UPDATE holds SET status = 'settled', charge = ?, resolved_at = ? WHERE id = ?`, c, now, id);
      this.sql.exec(`UPDATE state SET held = held - ?, spent = spent + ? WHERE id = 1`, h.amount, c);
      this.journal(`${id}:settle`, "settle", c, id, null, now);
      return { status: "settled" as const, amount: h.amount, charge: c, first: true, available: this.available() };
    });
  }

  /** Releases the whole hold; platform failures also give a free call back. A resolved hold returns its first outcome. */
  async void(id: string, reason: string): Promise<HoldOutcome | { error: "not_found" }> {
    const now = Date.now();
    return this.ctx.storage.transactionSync(() => this.release(id, "voided", reason, now) ?? { error: "not_found" as const });
  }

  private release(id: string, status: "voided" | "expired", reason: string, now: number): HoldOutcome | null {
    const h = this.hold(id);
    if (!h) return null;
    if (h.status !== "pending") return { status: h.status, amount: h.amount, charge: h.charge, first: false, available: this.available() };
    this.sql.exec(`UPDATE holds SET status = ?, resolved_at = ?, reason = ? WHERE id = ?`, status, now, reason, id);
    this.sql.exec(`UPDATE state SET held = held - ? WHERE id = 1`, h.amount);
    if (QUOTA_REFUND_REASONS.has(reason)) this.sql.exec(`UPDATE daily SET count = MAX(0, count - 1) WHERE day = ?`, h.day);
    this.journal(`${id}:${status === "voided" ? "void" : "expire"}`, status === "voided" ? "void" : "expire", h.amount, id, reason, now);
    return { status, amount: h.amount, charge: 0, first: true, available: this.available() };
  }

  hold(id: string): HoldRow | undefined {
    return this.sql.exec<HoldRow>(`SELECT * FROM holds WHERE id = ?`, id).toArray()[0] as HoldRow | undefined;
  }

  /** The cost floor of a call to this object (the ledger benchmark's baseline); it reads and writes nothing. */
  async noop(): Promise<number> {
    return 1;
  }

  async outcome(id: string): Promise<{ status: HoldRow["status"]; amount: number; charge: number } | null> {
    const h = this.hold(id);
    return h ? { status: h.status, amount: h.amount, charge: h.charge } : null;
  }

  // ---- deposits and adjustments ---------------------------------------------------------------------------------

  /** Credit or debit, idempotent by operation id; a repeat with other parameters is a conflict. */
  async adjust(accountId: string, planHint: Plan, kind: "credit" | "debit", opId: string, amount: number, reason: string): Promise<OpResult> {
    if (!isAmount(amount)) return { ok: false, code: "invalid_input", message: "amount must be a positive integer of micro-USD below 2^53" };
    const now = Date.now();
    return this.ctx.storage.transactionSync((): OpResult => {
      const s = this.ensure(accountId, planHint);
      const id = `${kind}:${opId}`;
      const prior = this.sql.exec<{ kind: string; amount: number }>(`SELECT kind, amount FROM journal WHERE op_id = ?`, id).toArray()[0];
      const available = s.deposits - s.spent - s.held;
      if (prior) {
        if (prior.amount !== amount) return { ok: false, code: "idempotency_conflict", message: "this idempotency key was used with another amount" };
        return { ok: true, op_id: id, kind, amount, available, replayed: true };
      }
      if (kind === "debit" && available < amount) return { ok: false, code: "insufficient_credits", message: `cannot debit ${amount}; ${available} available` };
      this.sql.exec(kind === "credit" ? `UPDATE state SET deposits = deposits + ? WHERE id = 1` : `UPDATE state SET spent = spent + ? WHERE id = 1`, amount);
      this.journal(id, kind, amount, null, reason, now);
      return { ok: true, op_id: id, kind, amount, available: kind === "credit" ? available + amount : available - amount, replayed: false };
    });
  }

  /** The plan's monthly credit, once per period (`YYYY-MM`); safe to call any number of times. */
  async grantMonthly(accountId: string, planHint: Plan, period: string): Promise<{ granted: number }> {
    const s = this.ensure(accountId, planHint);
    const amount = this.limits(s).monthly_credit;
    if (amount <= 0) return { granted: 0 };
    const r = await this.adjust(accountId, planHint, "credit", `grant:${s.plan}:${period}`, amount, `${s.plan} plan credit for ${period}`);
    return { granted: r.ok && !r.replayed ? amount : 0 };
  }

  async summary(accountId: string, planHint: Plan): Promise<LedgerSummary> {
    const s = this.ensure(accountId, planHint);
    const now = Date.now();
    return {
      account_id: s.account_id,
      plan: s.plan as Plan,
      limits: this.limits(s),
      deposits: s.deposits,
      spent: s.spent,
      held: s.held,
      available: s.deposits - s.spent - s.held,
      in_flight: this.inFlight(),
      requests_today: this.dailyCount(dayOf(now)),
      total_requests: s.total_requests,
      daily_reset_at: nextMidnight(now),
    };
  }

  // ---- expiry ---------------------------------------------------------------------------------------------------

  /** Expires every pending hold whose deadline is at or before `now`. Idempotent: firing twice changes nothing. */
  expire(now: number): number {
    const due = this.sql.exec<{ id: string }>(`SELECT id FROM holds WHERE status = 'pending' AND deadline <= ?`, now).toArray();
    this.ctx.storage.transactionSync(() => {
      for (const h of due) this.release(h.id, "expired", "expired", now);
    });
    return due.length;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    this.expire(Date.now());
    const next = this.sql.exec<{ t: number | null }>(`SELECT MIN(deadline) AS t FROM holds WHERE status = 'pending'`).one().t;
    if (next !== null) await this.schedule(next);
  }

  private async schedule(at: number): Promise<void> {
    if (this.alarmAt === null || at < this.alarmAt) {
      this.alarmAt = at;
      await this.ctx.storage.setAlarm(at);
    }
  }
}
