import { PLAN_DEFAULTS, type Plan, type PlanLimits } from "../../schemas/index.ts";
import type { HoldPricing } from "../services/pricing.ts";
import type { HoldRow, HoldStatus, StateRow } from "./account-ledger-sql.ts";
import type { HoldOutcome, LedgerSummary } from "./account-ledger-types.ts";

/** The account's balances and limits: the `state` row, with its limits parsed. */
export type State = Omit<StateRow, "plan" | "limits"> & { plan: Plan; limits: PlanLimits };

/** What the object keeps in memory about a pending hold (the `holds` rows with status 'pending'). */
export interface PendingHold {
  amount: number;
  pricing: HoldPricing;
  deadline: number;
  day: string;
  job: { pool: string; model: string } | null;
  /** when the reconciler checks the job exists; null once it has (or when there is no job to check) */
  checkAt: number | null;
}

export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const nextMidnight = (ms: number) =>
  Date.UTC(new Date(ms).getUTCFullYear(), new Date(ms).getUTCMonth(), new Date(ms).getUTCDate() + 1);

/**
 * The ledger's book: the `state` row, the pending holds and the journal's last sequence number, kept in memory and
 * written through SQLite. SQLite is the truth; memory is loaded when the object wakes, so the request path decides
 * without reading and only writes. The modules that move money write here inside their transaction and let memory
 * follow (`advance`) only once that transaction returned; `load()` rebuilds memory from what is stored alone.
 */
export class LedgerBook {
  readonly sql: SqlStorage;
  s: State | null = null;
  readonly pending = new Map<string, PendingHold>();
  seq = 0;

  constructor(private storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  tx<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }

  /** Rebuilds memory from SQLite. */
  load(): void {
    const row = this.sql.exec<StateRow>(`SELECT * FROM state WHERE id = 1`).toArray()[0] as StateRow | undefined;
    this.s = row ? { ...row, plan: row.plan as Plan, limits: JSON.parse(row.limits) as PlanLimits } : null;
    this.pending.clear();
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
  }

  /** Creates the account's state on first use (its own transaction); idempotent. */
  ensure(accountId: string, plan: Plan): State {
    if (this.s) return this.s;
    const limits = PLAN_DEFAULTS[plan];
    this.tx(() =>
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
  writeBalances(next: State): void {
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
  journal(
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

  /** Memory follows a transaction that returned: the new state, and the journal rows it wrote. */
  advance(next: State, rows: number): void {
    this.s = next;
    this.seq += rows;
  }

  /**
   * One movement for modules that let memory follow at once (payments, running holds): balances and a journal entry
   * written inside the caller's transaction, whose failure rebuilds memory from SQLite.
   */
  move(
    next: State,
    opId: string,
    kind: string,
    amount: number,
    holdId: string | null,
    reason: string | null,
    now: number,
  ): void {
    this.writeBalances(next);
    this.journal(this.seq + 1, opId, kind, amount, holdId, reason, now, next);
    this.advance(next, 1);
  }

  available(): number {
    const s = this.s;
    return s ? s.deposits - s.spent - s.held : 0;
  }

  /** Today's count: a count kept for an earlier day is 0 today. */
  usedToday(day: string): number {
    return this.s && this.s.quota_day === day ? this.s.quota_used : 0;
  }

  /** Plan and limits (inside the caller's transaction); memory follows. */
  writePlan(plan: Plan, limits: PlanLimits): void {
    this.sql.exec(`UPDATE state SET plan = ?, limits = ? WHERE id = 1`, plan, JSON.stringify(limits));
    this.s = { ...this.s!, plan, limits };
  }

  hold(id: string): HoldRow | undefined {
    return this.sql.exec<HoldRow>(`SELECT * FROM holds WHERE id = ?`, id).toArray()[0] as HoldRow | undefined;
  }

  /** The first outcome of a hold that is no longer pending; null when there never was such a hold. */
  closedOutcome(id: string): HoldOutcome | null {
    const h = this.hold(id);
    return h
      ? { status: h.status, amount: h.amount, charge: h.charge, first: false, available: this.available() }
      : null;
  }

  holdCounts(): { status: HoldStatus; count: number; amount: number; charged: number }[] {
    return this.sql
      .exec<{ status: HoldStatus; count: number; amount: number; charged: number }>(
        `SELECT status, COUNT(*) AS count, COALESCE(SUM(amount), 0) AS amount, COALESCE(SUM(charge), 0) AS charged FROM holds GROUP BY status ORDER BY status`,
      )
      .toArray();
  }

  summary(accountId: string, planHint: Plan, now: number): LedgerSummary {
    const s = this.ensure(accountId, planHint);
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
}
