import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { PLAN_DEFAULTS, type Plan, type PlanLimits } from "../../schemas/index.ts";
import { charge as priceOf, type HoldPricing } from "../services/pricing.ts";
import { broker } from "../services/broker.ts";
import {
  CREATE_V2,
  HOLD_COLUMNS,
  MIGRATE_V1_TO_V2,
  type HoldRow,
  type HoldStatus,
  type StateRow,
} from "./account-ledger-sql.ts";
import { gcra } from "./gcra.ts";
import {
  GROUP_DDL,
  GroupHolds,
  type CaptureResult,
  type GroupOutcome,
  type GroupReserve,
} from "./account-ledger-groups.ts";
import {
  LedgerMoney,
  type AutoRechargeClaim,
  type BillingState,
  type EffectResult,
  type MoneyCore,
  type StripeEffect,
} from "./account-ledger-money.ts";
import { LedgerEarnings, type Earner, type EarningsReport } from "./account-ledger-earnings.ts";
import type { EarningRow, PaymentRow, SplitRow } from "./account-ledger-money-sql.ts";
import {
  RUNNING_DDL,
  RunningHolds,
  type RaiseResult,
  type RunningTick,
  type TickResult,
} from "./account-ledger-running.ts";

const MINUTE = 60_000;
/** Void reasons that give a free call back: the platform failed, not the caller. */
const QUOTA_REFUND_REASONS = new Set([
  "worker_lost",
  "timeout",
  "no_capacity",
  "backend_crash",
  "runtime_error",
  "model_unavailable",
  "oom",
  "expired",
  "enqueue_failed",
  // Input the platform's own validation accepted and agents then called invalid (caller-side invalid input is refused
  // before any hold), a submission cut off by a crash, and the loser of two concurrent uses of one Idempotency-Key.
  "invalid_input",
  "submission_interrupted",
  "idempotency_conflict",
]);
/** A hold whose job was not confirmed this long after the hold is checked against the broker by the alarm. */
export const RECONCILE_AFTER_MS = 30_000;
/** One alarm checks every hold due within this window, so a busy account's checks are batched. */
const RECONCILE_WINDOW_MS = 10_000;

export interface AdmitRequest {
  /** the request id: reserve, settle and void of a request are idempotent by it */
  id: string;
  amount: number;
  pricing: HoldPricing;
  /** ms after now when the hold is voided if nothing resolved it */
  ttl_ms: number;
  model_free: boolean;
  /** the job the hold pays for: set by the request path, so the alarm can release a hold whose job never came to be */
  job?: { pool: string; model: string };
}

export interface RateInfo {
  limit: number;
  remaining: number;
  reset_s: number;
}

export type AdmitResult =
  | { ok: true; replayed: boolean; hold: number; available: number; rate: RateInfo; priority: number }
  | {
      ok: false;
      code: "insufficient_credits" | "rate_limited" | "daily_quota_exceeded" | "forbidden" | "invalid_input";
      message: string;
      retry_after_s?: number;
      available: number;
      rate?: RateInfo;
    };

export interface HoldOutcome {
  status: HoldStatus;
  amount: number;
  charge: number;
  /** false when this call found the hold already resolved and returned its first outcome */
  first: boolean;
  /** the account's available credit after this call */
  available: number;
  /** an auto-recharge charge this settle claimed (the caller creates the PaymentIntent) */
  auto_recharge?: AutoRechargeClaim | null;
}

/** One operation of a batch (`apply`): what `admit`, `settle` and `void` do, one by one. */
export type LedgerOp =
  | { op: "admit"; account_id: string; plan: Plan; req: AdmitRequest }
  | { op: "settle"; id: string; gpu_ms: number; gpu_class: string | null; earner?: Earner }
  | { op: "void"; id: string; reason: string };

/** The grouped-hold operations of workflow runs, applied in the same group commit as the rest. */
export type GroupLedgerOp =
  | { op: "reserve_group"; account_id: string; plan: Plan; req: GroupReserve }
  | { op: "capture"; group: string; node: string; gpu_ms: number; gpu_class: string | null }
  | { op: "close_group"; group: string; mode: "commit" | "void"; reason: string };

export type SettleResult = HoldOutcome | { error: "not_found" | "invalid_input" };
export type VoidResult = HoldOutcome | { error: "not_found" };
/** The result of one operation of a batch, in the batch's order; `failed` when that operation threw and was rolled back. */
export type LedgerOpResult =
  | AdmitResult
  | SettleResult
  | VoidResult
  | CaptureResult
  | GroupOutcome
  | null
  | { failed: string };

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
const nextMidnight = (ms: number) =>
  Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), new Date(ms).getUTCDate() + 1);

/** The account's balances and limits: the `state` row, with its limits parsed; the object keeps a copy in memory. */
type State = Omit<StateRow, "plan" | "limits"> & { plan: Plan; limits: PlanLimits };

/** What the object keeps in memory about a pending hold (the `holds_pending` rows). */
interface PendingHold {
  amount: number;
  pricing: HoldPricing;
  deadline: number;
  day: string;
  job: { pool: string; model: string } | null;
  /** when the reconciler checks the job exists; null once it has (or when there is no job to check) */
  checkAt: number | null;
}

/**
 * One per account: money and limits, TigerBeetle-style. `available = deposits - spent - held`; a hold is reserved
 * before a job runs, then resolved exactly once (settled on the measured GPU time, voided on any failure, expired by
 * the alarm); every movement is a journal entry with an operation id. Rate limit (GCRA), daily quota, in-flight limit
 * and the hold are decided and written in one synchronous SQLite transaction per request.
 *
 * SQLite is the truth; the object also keeps the `state` row and its pending holds in memory, loaded when it wakes,
 * so the request path decides without reading and only writes. Memory changes only after the transaction that wrote
 * the same values returned: a transaction that throws rolls back and leaves memory as it was, and a failed commit
 * resets the object, which then reloads from SQLite. `reload()` re-reads everything (the simulation uses it to check
 * that what is stored alone rebuilds the same ledger).
 */
export class AccountLedger extends DurableObject<Env> {
  private sql: SqlStorage;
  private alarmAt: number | null = null;
  private s: State | null = null;
  private pending = new Map<string, PendingHold>();
  private seq = 0;
  /** since this object woke: group commits made and operations they carried (the benchmark reports ops per commit) */
  private commits = { commits: 0, operations: 0 };
  private pumping = false;
  private queue: {
    ops: (LedgerOp | GroupLedgerOp)[];
    resolve: (r: LedgerOpResult[]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  /** workflow runs: one hold per run, captured per node (account-ledger-groups.ts) */
  private groups = new GroupHolds<State, AdmitResult>({
    sql: this.ctx.storage.sql,
    transaction: (fn) => this.ctx.storage.transactionSync(fn),
    state: () => this.s!,
    pending: () => this.pending,
    seq: () => this.seq,
    advance: (next, rows) => ((this.s = next), (this.seq += rows)),
    admit: (a, p, r, now) => this.admitNow(a, p, r, now),
    writeBalances: (next) => this.writeBalances(next),
    journal: (...args) => this.journal(...args),
    release: (id, reason, now) => this.release(id, "voided", reason, now),
    reload: () => this.reload(),
  });
  private money: LedgerMoney;
  private earnings: LedgerEarnings;
  /** dedicated endpoints: one running hold each, captured and topped up by the endpoint's ticks */
  private running = new RunningHolds({
    sql: this.ctx.storage.sql,
    tx: (fn) => this.moneyTx(fn),
    ensure: (accountId, plan) => void this.ensure(accountId, plan),
    balances: () => this.s ?? { deposits: 0, spent: 0, held: 0 },
    shift: (opId, kind, d, amount, holdId, reason, now) => {
      const s = this.s!;
      const next: State = { ...s, held: s.held + d.held, spent: s.spent + d.spent };
      this.writeBalances(next);
      this.journal(this.seq + 1, opId, kind, amount, holdId, reason, now, next);
      this.s = next;
      this.seq++;
    },
    split: (...args) => this.earnings.split(...args),
  });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.money = new LedgerMoney(this.moneyCore());
    this.earnings = new LedgerEarnings(this.sql, (fn) => this.moneyTx(fn));
    ctx.blockConcurrencyWhile(async () => {
      this.migrate();
      this.money.migrate();
      this.reload();
      this.alarmAt = await ctx.storage.getAlarm();
      await this.rearm();
    });
  }

  private migrate(): void {
    const tables = new Set(
      this.sql
        .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`)
        .toArray()
        .map((r) => r.name),
    );
    if (!tables.has("state")) this.ctx.storage.transactionSync(() => CREATE_V2.forEach((q) => this.sql.exec(q)));
    else if (tables.has("gcra"))
      this.ctx.storage.transactionSync(() => MIGRATE_V1_TO_V2.forEach((q) => this.sql.exec(q)));
    this.sql.exec(GROUP_DDL);
    const cols = this.sql
      .exec<{ name: string }>(`SELECT name FROM pragma_table_info('holds')`)
      .toArray()
      .map((c) => c.name);
    for (const [col, type] of HOLD_COLUMNS) {
      if (!cols.includes(col)) this.sql.exec(`ALTER TABLE holds ADD COLUMN ${col} ${type}`);
    }
    for (const q of RUNNING_DDL) this.sql.exec(q);
  }

  /** Rebuilds the in-memory copy from SQLite. */
  reload(): void {
    const row = this.sql.exec<StateRow>(`SELECT * FROM state WHERE id = 1`).toArray()[0] as StateRow | undefined;
    this.s = row ? { ...row, plan: row.plan as Plan, limits: JSON.parse(row.limits) as PlanLimits } : null;
    this.pending = new Map();
    type Row = Pick<HoldRow, "id" | "amount" | "pricing" | "deadline" | "day" | "job_pool" | "job_model" | "check_at">;
    for (const h of this.sql.exec<Row>(
      `SELECT id, amount, pricing, deadline, day, job_pool, job_model, check_at FROM holds WHERE status = 'pending'`,
    )) {
      const job = h.job_pool !== null ? { pool: h.job_pool, model: h.job_model ?? "" } : null;
      this.pending.set(h.id, {
        amount: h.amount,
        pricing: JSON.parse(h.pricing) as HoldPricing,
        deadline: h.deadline,
        day: h.day,
        job,
        checkAt: h.check_at,
      });
    }
    this.seq = this.sql.exec<{ n: number | null }>(`SELECT MAX(seq) AS n FROM journal`).one().n ?? 0;
    this.money?.reload();
  }

  // ---- state ----------------------------------------------------------------------------------------------------

  /** Creates the account's state on first use (its own transaction); idempotent. */
  private ensure(accountId: string, plan: Plan): State {
    if (this.s) return this.s;
    const limits = PLAN_DEFAULTS[plan];
    this.ctx.storage.transactionSync(() =>
      this.sql.exec(
        `INSERT INTO state (id, account_id, plan, limits) VALUES (1, ?, ?, ?)`,
        accountId,
        plan,
        JSON.stringify(limits),
      ),
    );
    this.s = {
      account_id: accountId,
      plan,
      limits,
      deposits: 0,
      spent: 0,
      held: 0,
      total_requests: 0,
      tat: null,
      quota_day: null,
      quota_used: 0,
    };
    return this.s;
  }

  /** Writes the balances of `next` to the state row (inside the caller's transaction). */
  private writeBalances(next: State): void {
    this.sql.exec(
      `UPDATE state SET deposits = ?, spent = ?, held = ?, total_requests = ?, tat = ?, quota_day = ?, quota_used = ? WHERE id = 1`,
      next.deposits,
      next.spent,
      next.held,
      next.total_requests,
      next.tat,
      next.quota_day,
      next.quota_used,
    );
  }

  /** A journal entry carrying the balances after the movement (inside the caller's transaction). */
  private journal(
    seq: number,
    opId: string,
    kind: string,
    amount: number,
    holdId: string | null,
    reason: string | null,
    now: number,
    after: State,
  ): void {
    this.sql.exec(
      `INSERT INTO journal (op_id, seq, kind, amount, hold_id, reason, created_at, deposits, spent, held) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      opId,
      seq,
      kind,
      amount,
      holdId,
      reason,
      now,
      after.deposits,
      after.spent,
      after.held,
    );
  }

  private available(): number {
    const s = this.s;
    return s ? s.deposits - s.spent - s.held : 0;
  }

  /** Today's count: a count kept for an earlier day is 0 today. */
  private usedToday(day: string): number {
    return this.s && this.s.quota_day === day ? this.s.quota_used : 0;
  }

  async setPlan(accountId: string, plan: Plan, overrides: Partial<PlanLimits> = {}): Promise<PlanLimits> {
    const limits = { ...PLAN_DEFAULTS[plan], ...overrides };
    const s = this.ensure(accountId, plan);
    this.ctx.storage.transactionSync(() =>
      this.sql.exec(`UPDATE state SET plan = ?, limits = ? WHERE id = 1`, plan, JSON.stringify(limits)),
    );
    this.s = { ...s, plan, limits };
    return limits;
  }

  private rateInfo(limits: PlanLimits, tat: number | null, now: number): RateInfo {
    const d = gcra(tat, now, limits.rpm, MINUTE);
    return {
      limit: limits.rpm,
      remaining: d.allowed ? d.remaining + 1 : 0,
      reset_s: Math.ceil(Math.max(0, (tat ?? now) - now) / 1000),
    };
  }

  // ---- group commit ---------------------------------------------------------------------------------------------

  /**
   * Group commit: one commit in flight at a time, and the calls that arrive meanwhile go into the next one. A call
   * that finds the object idle is applied at once (no added wait); calls that arrive while a commit is being made
   * durable queue, and when `storage.sync()` says it is, the whole queue is applied in order in one SQLite
   * transaction, so they share one commit instead of paying one each. Each operation runs in its own nested
   * transaction, so one that throws is rolled back alone (its result is `failed`) and the others stand. Every answer
   * leaves only once its commit is durable (the output gate). Each operation decides exactly as it would alone, in
   * arrival order: batching changes cost, not outcomes.
   */
  private submit(ops: (LedgerOp | GroupLedgerOp)[]): Promise<LedgerOpResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        this.flush();
        await this.ctx.storage.sync();
      }
    } catch (e) {
      // sync() fails when the commit did: the object is broken and will be reset; fail whatever is still queued.
      for (const b of this.queue.splice(0)) b.reject(e);
    } finally {
      this.pumping = false;
    }
  }

  private flush(): void {
    const batch = this.queue.splice(0);
    const now = Date.now();
    let due: number | null = null;
    let results: LedgerOpResult[][];
    try {
      results = this.ctx.storage.transactionSync(() =>
        batch.map((b) => b.ops.map((o) => this.applyOne(o, now, (at) => (due = Math.min(due ?? Infinity, at))))),
      );
    } catch (e) {
      // The batch's transaction itself failed and rolled back: memory may hold some of its operations, so it is
      // rebuilt from what is stored, and every caller is told.
      this.reload();
      for (const b of batch) b.reject(e);
      return;
    }
    this.commits.commits++;
    for (const b of batch) this.commits.operations += b.ops.length;
    if (due !== null)
      this.schedule(due).catch((e) =>
        console.error(
          JSON.stringify({ level: "error", message: "setting the hold-expiry alarm failed", error: String(e) }),
        ),
      );
    batch.forEach((b, i) => b.resolve(results[i]!));
  }

  private applyOne(o: LedgerOp | GroupLedgerOp, now: number, holdDue: (at: number) => void): LedgerOpResult {
    try {
      switch (o.op) {
        case "admit": {
          const r = this.admitNow(o.account_id, o.plan, o.req, now);
          if (r.ok && !r.replayed) holdDue(o.req.job ? now + RECONCILE_AFTER_MS : now + Math.max(0, o.req.ttl_ms));
          return r;
        }
        case "settle":
          return this.settleNow(o.id, o.gpu_ms, o.gpu_class, now, o.earner);
        case "void":
          return this.release(o.id, "voided", o.reason, now) ?? { error: "not_found" };
        case "reserve_group": {
          const r = this.groups.reserve(o.account_id, o.plan, o.req, now);
          if (r.ok && !r.replayed) holdDue(now + Math.max(0, o.req.ttl_ms));
          return r;
        }
        case "capture":
          return this.groups.capture(o.group, o.node, o.gpu_ms, o.gpu_class, now);
        case "close_group":
          return this.groups.close(o.group, o.mode, o.reason, now);
      }
    } catch (e) {
      return { failed: e instanceof Error ? e.message : String(e) };
    }
  }

  private async one<T extends LedgerOpResult>(op: LedgerOp | GroupLedgerOp): Promise<Exclude<T, { failed: string }>> {
    const [r] = await this.submit([op]);
    if (r && "failed" in r) throw new Error(`ledger operation failed and was rolled back: ${r.failed}`);
    return r as Exclude<T, { failed: string }>;
  }

  async commitStats(): Promise<{ commits: number; operations: number }> {
    return { ...this.commits };
  }

  /** Several operations in one call, applied in order in the next group commit; one result per operation. */
  async apply(ops: LedgerOp[]): Promise<LedgerOpResult[]> {
    return ops.length ? this.submit(ops) : [];
  }

  // ---- the request path -----------------------------------------------------------------------------------------

  /** Rate limit + daily quota + in-flight limit + credit hold, decided and written in one transaction. */
  async admit(accountId: string, planHint: Plan, req: AdmitRequest): Promise<AdmitResult> {
    return this.one<AdmitResult>({ op: "admit", account_id: accountId, plan: planHint, req });
  }

  private admitNow(accountId: string, planHint: Plan, req: AdmitRequest, now: number): AdmitResult {
    const s = this.ensure(accountId, planHint);
    const { limits } = s;
    const available = s.deposits - s.spent - s.held;
    const replay = (): AdmitResult | null => {
      const h = this.pending.get(req.id) ?? this.hold(req.id);
      return h
        ? {
            ok: true,
            replayed: true,
            hold: h.amount,
            available,
            rate: this.rateInfo(limits, s.tat, now),
            priority: limits.priority,
          }
        : null;
    };
    if (this.pending.has(req.id)) return replay()!;
    if (!isAmount(req.amount) && req.amount !== 0)
      return {
        ok: false,
        code: "invalid_input",
        message: "hold amount must be a non-negative safe integer",
        available,
      };
    if (limits.free_models_only && !req.model_free)
      return { ok: false, code: "forbidden", message: `the ${s.plan} plan can call free models only`, available };

    // A refusal first checks that this is not the replay of a request admitted earlier (and resolved since).
    const rate = gcra(s.tat, now, limits.rpm, MINUTE);
    const rateInfo: RateInfo = {
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
          rate: rateInfo,
        }
      );
    }
    const day = dayOf(now);
    const used = this.usedToday(day);
    if (limits.daily_quota !== null && used >= limits.daily_quota) {
      return (
        replay() ?? {
          ok: false,
          code: "daily_quota_exceeded",
          message: `daily quota of ${limits.daily_quota} calls used; it resets at 00:00 UTC`,
          retry_after_s: Math.ceil((nextMidnight(now) - now) / 1000),
          available,
          rate: rateInfo,
        }
      );
    }
    if (this.pending.size >= limits.in_flight) {
      return (
        replay() ?? {
          ok: false,
          code: "rate_limited",
          message: `at most ${limits.in_flight} requests may run at once on the ${s.plan} plan`,
          retry_after_s: 1,
          available,
          rate: rateInfo,
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
          rate: rateInfo,
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
    const inserted = this.ctx.storage.transactionSync(() => {
      // The hold's id is its primary key: a request id seen before (and already resolved) inserts nothing.
      const ins = this.sql.exec(
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
      this.writeBalances(next);
      this.journal(this.seq + 1, `${req.id}:hold`, "hold", amount, req.id, null, now, next);
      return true;
    });
    if (!inserted) return replay()!;
    this.s = next;
    this.seq++;
    this.pending.set(req.id, { amount, pricing, deadline, day, job, checkAt });
    return {
      ok: true,
      replayed: false,
      hold: amount,
      available: available - amount,
      rate: rateInfo,
      priority: limits.priority,
    };
  }

  // ---- workflow runs: grouped holds ----------------------------------------------------------------------------

  /** One admission (rate limit, quota, in-flight, hold of Σ node maxima) for a whole workflow run. */
  async reserveGroup(accountId: string, planHint: Plan, req: GroupReserve): Promise<AdmitResult> {
    return this.one<AdmitResult>({ op: "reserve_group", account_id: accountId, plan: planHint, req });
  }

  /** Captures a completed node's charge and releases the rest of its share; once per (run, node). */
  async captureNode(group: string, node: string, gpuMs: number, gpuClass: string | null): Promise<CaptureResult> {
    return this.one<CaptureResult>({ op: "capture", group, node, gpu_ms: gpuMs, gpu_class: gpuClass });
  }

  /** commit: charge the captured nodes, release the rest; void: release everything. Idempotent. */
  async closeGroup(group: string, mode: "commit" | "void", reason: string): Promise<GroupOutcome | null> {
    return this.one<GroupOutcome | null>({ op: "close_group", group, mode, reason });
  }

  async groupOutcome(group: string): Promise<GroupOutcome | null> {
    return this.groups.outcome(group, false);
  }

  /** Settles a hold on the measured GPU time: charge = min(hold, price). A resolved hold returns its first outcome. */
  async settle(id: string, gpuMs: number, gpuClass: string | null, earner?: Earner): Promise<SettleResult> {
    return this.one<SettleResult>({
      op: "settle",
      id,
      gpu_ms: gpuMs,
      gpu_class: gpuClass,
      ...(earner ? { earner } : {}),
    });
  }

  private settleNow(id: string, gpuMs: number, gpuClass: string | null, now: number, earner?: Earner): SettleResult {
    if (!Number.isSafeInteger(gpuMs) || gpuMs < 0) return { error: "invalid_input" };
    const h = this.pending.get(id);
    if (!h) return this.resolved(id) ?? { error: "not_found" };
    const s = this.s!;
    const c = priceOf(h.pricing, h.amount, gpuMs, gpuClass);
    const next: State = { ...s, held: s.held - h.amount, spent: s.spent + c };
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`UPDATE holds SET status = 'settled', charge = ?, resolved_at = ? WHERE id = ?`, c, now, id);
      this.writeBalances(next);
      this.journal(this.seq + 1, `${id}:settle`, "settle", c, id, null, now, next);
      if (earner) this.earnings.split(id, earner, c, gpuMs, gpuClass, now);
    });
    this.s = next;
    this.seq++;
    this.pending.delete(id);
    const auto = this.money.due(now) ? this.moneyTx(() => this.money.claim(s.account_id, now)) : null;
    return {
      status: "settled",
      amount: h.amount,
      charge: c,
      first: true,
      available: this.available(),
      ...(auto ? { auto_recharge: auto } : {}),
    };
  }

  /** Releases the whole hold; platform failures also give a free call back. A resolved hold returns its first outcome. */
  async void(id: string, reason: string): Promise<VoidResult> {
    return this.one<VoidResult>({ op: "void", id, reason });
  }

  private release(id: string, status: "voided" | "expired", reason: string, now: number): HoldOutcome | null {
    const h = this.pending.get(id);
    if (!h) return this.resolved(id);
    const next = this.ctx.storage.transactionSync(() =>
      this.writeRelease(id, h, status, reason, now, this.s!, this.seq + 1),
    );
    this.s = next;
    this.seq++;
    this.pending.delete(id);
    return { status, amount: h.amount, charge: 0, first: true, available: this.available() };
  }

  /** The writes that release a pending hold (inside the caller's transaction); returns the state after them. */
  private writeRelease(
    id: string,
    h: PendingHold,
    status: "voided" | "expired",
    reason: string,
    now: number,
    cur: State,
    seq: number,
  ): State {
    const refund = QUOTA_REFUND_REASONS.has(reason) && cur.quota_day === h.day;
    const next: State = {
      ...cur,
      held: cur.held - h.amount,
      quota_used: refund ? Math.max(0, cur.quota_used - 1) : cur.quota_used,
    };
    const kind = status === "voided" ? "void" : "expire";
    this.sql.exec(`UPDATE holds SET status = ?, resolved_at = ?, reason = ? WHERE id = ?`, status, now, reason, id);
    this.writeBalances(next);
    this.journal(seq, `${id}:${kind}`, kind, h.amount, id, reason, now, next);
    return next;
  }

  /** The first outcome of a hold that is no longer pending; null when there never was such a hold. */
  private resolved(id: string): HoldOutcome | null {
    const h = this.hold(id);
    return h
      ? { status: h.status, amount: h.amount, charge: h.charge, first: false, available: this.available() }
      : null;
  }

  hold(id: string): HoldRow | undefined {
    return this.sql.exec<HoldRow>(`SELECT * FROM holds WHERE id = ?`, id).toArray()[0] as HoldRow | undefined;
  }

  /** The cost floor of a call to this object (the ledger benchmark's baseline); it reads and writes nothing. */
  async noop(): Promise<number> {
    return 1;
  }

  /** Holds by status, with the total charged: the admin ledger view reconciles these against the requests. */
  async holdCounts(): Promise<{ status: HoldStatus; count: number; amount: number; charged: number }[]> {
    return this.sql
      .exec<{ status: HoldStatus; count: number; amount: number; charged: number }>(
        `SELECT status, COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount, COALESCE(SUM(charge), 0) AS charged FROM holds GROUP BY status ORDER BY status`,
      )
      .toArray();
  }

  async outcome(id: string): Promise<{ status: HoldStatus; amount: number; charge: number } | null> {
    const h = this.hold(id);
    return h ? { status: h.status, amount: h.amount, charge: h.charge } : null;
  }

  // ---- deposits and adjustments ---------------------------------------------------------------------------------

  /** Credit or debit, idempotent by operation id; a repeat with other parameters is a conflict. */
  async adjust(
    accountId: string,
    planHint: Plan,
    kind: "credit" | "debit",
    opId: string,
    amount: number,
    reason: string,
  ): Promise<OpResult> {
    if (!isAmount(amount))
      return { ok: false, code: "invalid_input", message: "amount must be a positive integer of micro-USD below 2^53" };
    const now = Date.now();
    const s = this.ensure(accountId, planHint);
    const id = `${kind}:${opId}`;
    const available = s.deposits - s.spent - s.held;
    const prior = this.sql
      .exec<{ kind: string; amount: number }>(`SELECT kind, amount FROM journal WHERE op_id = ?`, id)
      .toArray()[0];
    if (prior) {
      if (prior.amount !== amount)
        return {
          ok: false,
          code: "idempotency_conflict",
          message: "this idempotency key was used with another amount",
        };
      return { ok: true, op_id: id, kind, amount, available, replayed: true };
    }
    if (kind === "debit" && available < amount)
      return { ok: false, code: "insufficient_credits", message: `cannot debit ${amount}; ${available} available` };
    if (kind === "credit" && !Number.isSafeInteger(s.deposits + amount))
      return { ok: false, code: "invalid_input", message: "the balance would exceed 2^53 micro-USD" };
    const next: State = kind === "credit" ? { ...s, deposits: s.deposits + amount } : { ...s, spent: s.spent + amount };
    this.ctx.storage.transactionSync(() => {
      this.writeBalances(next);
      this.journal(this.seq + 1, id, kind, amount, null, reason, now, next);
    });
    this.s = next;
    this.seq++;
    return {
      ok: true,
      op_id: id,
      kind,
      amount,
      available: kind === "credit" ? available + amount : available - amount,
      replayed: false,
    };
  }

  /** The plan's monthly credit, once per period (`YYYY-MM`); safe to call any number of times. */
  async grantMonthly(accountId: string, planHint: Plan, period: string): Promise<{ granted: number }> {
    const s = this.ensure(accountId, planHint);
    const amount = s.limits.monthly_credit;
    // A Stripe subscription credits the month on each paid invoice instead.
    if (amount <= 0 || this.money.state().stripe_managed) return { granted: 0 };
    const r = await this.adjust(
      accountId,
      planHint,
      "credit",
      `grant:${s.plan}:${period}`,
      amount,
      `${s.plan} plan credit for ${period}`,
    );
    return { granted: r.ok && !r.replayed ? amount : 0 };
  }

  async summary(accountId: string, planHint: Plan): Promise<LedgerSummary> {
    const s = this.ensure(accountId, planHint);
    const now = Date.now();
    return {
      account_id: s.account_id,
      plan: s.plan,
      limits: s.limits,
      deposits: s.deposits,
      spent: s.spent,
      held: s.held,
      available: s.deposits - s.spent - s.held,
      in_flight: this.pending.size,
      requests_today: this.usedToday(dayOf(now)),
      total_requests: s.total_requests,
      daily_reset_at: nextMidnight(now),
    };
  }

  // ---- expiry ---------------------------------------------------------------------------------------------------

  /** Expires every pending hold whose deadline is at or before `now`, in one transaction. Idempotent: firing twice changes nothing. */
  expire(now: number): number {
    const due = [...this.pending].filter(([, h]) => h.deadline <= now);
    if (due.length === 0) return 0;
    const next = this.ctx.storage.transactionSync(() => {
      let cur = this.s!;
      due.forEach(([id, h], i) => (cur = this.writeRelease(id, h, "expired", "expired", now, cur, this.seq + 1 + i)));
      return cur;
    });
    this.s = next;
    this.seq += due.length;
    for (const [id] of due) this.pending.delete(id);
    return due.length;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    this.expire(now);
    await this.reconcile(now);
    let next: number | null = null;
    for (const h of this.pending.values()) {
      const at = Math.min(h.deadline, h.checkAt ?? Infinity);
      if (next === null || at < next) next = at;
    }
    if (next !== null) await this.schedule(next);
  }

  /**
   * A crash between the hold and the job's enqueue would leave the hold locked until it expires. So every hold with a
   * job still pending `RECONCILE_AFTER_MS` after it was made is checked against its pool's broker: a job that exists
   * confirms it (its own completion resolves it); a missing one is written as failed by the broker, so a submission
   * that resumes late cannot queue it, and the hold is voided here (the free call is given back). Idempotent.
   */
  async reconcile(now: number): Promise<{ confirmed: number; voided: number }> {
    const byPool = new Map<string, { id: string; account_id: string; model: string }[]>();
    for (const [id, h] of this.pending) {
      if (!h.job || h.checkAt === null || h.checkAt > now + RECONCILE_WINDOW_MS) continue;
      const list = byPool.get(h.job.pool) ?? [];
      list.push({ id, account_id: this.s!.account_id, model: h.job.model });
      byPool.set(h.job.pool, list);
    }
    let confirmed = 0;
    let voided = 0;
    for (const [pool, items] of byPool) {
      for (let i = 0; i < items.length; i += 200) {
        const answers = await broker(this.env, pool).reconcile(items.slice(i, i + 200));
        // The broker call let other events in: act only on holds still pending.
        const present = answers.filter((a) => a.present && this.pending.get(a.id)?.checkAt != null).map((a) => a.id);
        if (present.length) {
          this.ctx.storage.transactionSync(() => {
            for (const id of present) this.sql.exec(`UPDATE holds SET check_at = NULL WHERE id = ?`, id);
          });
          for (const id of present) this.pending.get(id)!.checkAt = null;
          confirmed += present.length;
        }
        const missing = answers.filter((a) => !a.present && this.pending.has(a.id));
        if (missing.length) {
          const voids = missing.map((a): LedgerOp => ({ op: "void", id: a.id, reason: "submission_interrupted" }));
          const results = await this.apply(voids);
          voided += results.filter((r) => r !== null && "first" in r && r.first).length;
        }
      }
    }
    return { confirmed, voided };
  }

  /**
   * On wake, pending holds get their alarm set again, at their next check or deadline, whatever getAlarm() says: an
   * alarm stored in the past may never fire, and a restarted local runtime keeps reporting alarms it no longer fires
   * (workers-sdk#5948), which would leave holds locked until the next admit.
   */
  private async rearm(): Promise<void> {
    let next: number | null = null;
    for (const h of this.pending.values()) next = Math.min(next ?? Infinity, h.deadline, h.checkAt ?? Infinity);
    if (next === null) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(next);
  }

  private async schedule(at: number): Promise<void> {
    if (this.alarmAt === null || at < this.alarmAt) {
      this.alarmAt = at;
      await this.ctx.storage.setAlarm(at);
    }
  }

  // ---- payments and provider earnings (account-ledger-money.ts, account-ledger-earnings.ts) ----------------------

  /** The ledger's side of the payments module: balances, journal and plan, kept in step with memory. */
  private moneyCore(): MoneyCore {
    return {
      sql: this.sql,
      tx: (fn) => this.moneyTx(fn),
      ensure: (accountId, plan) => void this.ensure(accountId, plan),
      available: () => this.available(),
      plan: () => this.s?.plan ?? "free",
      move: (opId, kind, d, amount, reason, now) => {
        const s = this.s!;
        const next: State = { ...s, deposits: s.deposits + (d.deposits ?? 0), spent: s.spent + (d.spent ?? 0) };
        this.writeBalances(next);
        this.journal(this.seq + 1, opId, kind, amount, null, reason, now, next);
        this.s = next;
        this.seq++;
      },
      setPlan: (plan, limits) => {
        this.sql.exec(`UPDATE state SET plan = ?, limits = ? WHERE id = 1`, plan, JSON.stringify(limits));
        this.s = { ...this.s!, plan, limits };
      },
    };
  }

  /** The payments module changes memory as it writes; a transaction that throws rebuilds memory from SQLite. */
  private moneyTx<T>(fn: () => T): T {
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (e) {
      this.reload();
      throw e;
    }
  }

  async stripeEffect(
    accountId: string,
    planHint: Plan,
    eventId: string,
    eventType: string,
    effect: StripeEffect,
  ): Promise<EffectResult> {
    return this.money.apply(accountId, planHint, eventId, eventType, effect, Date.now());
  }

  async billingState(
    accountId: string,
    planHint: Plan,
  ): Promise<{ billing: BillingState; payments: PaymentRow[]; plan: Plan; available: number }> {
    this.ensure(accountId, planHint);
    return {
      billing: this.money.state(),
      payments: this.money.payments(100),
      plan: this.s!.plan,
      available: this.available(),
    };
  }

  async setCustomer(accountId: string, planHint: Plan, customerId: string): Promise<void> {
    this.money.setCustomer(accountId, planHint, customerId);
  }

  async configureAutoRecharge(
    accountId: string,
    planHint: Plan,
    cfg: { enabled: boolean; threshold: number; amount: number },
  ) {
    return this.money.configure(accountId, planHint, cfg, Date.now());
  }

  /** After a debit outside a settle: claims an auto-recharge charge when one is due. */
  async autoRechargeCheck(accountId: string): Promise<AutoRechargeClaim | null> {
    return this.s ? this.moneyTx(() => this.money.claim(accountId, Date.now())) : null;
  }

  async autoRechargeFailed(seq: number, code: string, message: string): Promise<void> {
    this.moneyTx(() => this.money.fail(seq, code, message));
  }

  // ---- dedicated endpoints: running holds (account-ledger-running.ts) ---------------------------------------------

  /** Sets an endpoint's running hold to `target`; raising needs the difference available. */
  async raiseRunning(accountId: string, planHint: Plan, id: string, target: number): Promise<RaiseResult> {
    return this.running.raise(accountId, planHint, id, target, Date.now());
  }

  /** One tick of an endpoint: capture what accrued (never more than held), top up; idempotent by (id, seq). */
  async tickRunning(
    id: string,
    tick: RunningTick,
  ): Promise<TickResult | { ok: false; code: "not_found" | "invalid_input" }> {
    return this.running.tick(id, tick, Date.now());
  }

  async runningView(id: string) {
    return this.running.view(id);
  }

  async splitsOf(holdId: string): Promise<SplitRow[]> {
    return this.earnings.splitsOf(holdId);
  }

  /** The platform pays the provider's share of a voided hold's work (e.g. output moderation); idempotent. */
  async platformPays(holdId: string, earner: Earner, gpuMs: number, gpuClass: string | null): Promise<SplitRow | null> {
    const h = this.hold(holdId);
    if (!h || h.status === "settled" || h.status === "pending") return null;
    return this.earnings.platformPays(
      holdId,
      earner,
      JSON.parse(h.pricing) as HoldPricing,
      h.amount,
      gpuMs,
      gpuClass,
      Date.now(),
    );
  }

  async recordEarning(accountId: string, split: SplitRow): Promise<boolean> {
    return this.earnings.record(accountId, split);
  }

  async payout(opId: string, amount: number, reference: string | null) {
    return this.earnings.payout(opId, amount, reference, Date.now());
  }

  async earningsReport(from: number, to: number): Promise<EarningsReport> {
    return this.earnings.report(from, to);
  }

  async statement(
    from: number,
    to: number,
  ): Promise<{
    rows: EarningRow[];
    payouts: { op_id: string; amount: number; reference: string | null; created_at: number }[];
    report: EarningsReport;
  }> {
    return {
      rows: this.earnings.rows(from, to),
      payouts: this.earnings.payouts(from, to),
      report: this.earnings.report(from, to),
    };
  }
}
