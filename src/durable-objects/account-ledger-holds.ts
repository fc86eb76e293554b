import { voidGivesFreeCallBack } from "../../schemas/index.ts";
import { charge as priceOf } from "../services/pricing.ts";
import type { LedgerBook, PendingHold, State } from "./account-ledger-book.ts";
import type { Earner, LedgerEarnings } from "./account-ledger-earnings.ts";
import type { LedgerMoney } from "./account-ledger-money.ts";
import type { HoldOutcome, SettleResult } from "./account-ledger-types.ts";

/** A hold that is not voided is expired: a void done by the alarm once the hold's deadline passed. */
export type VoidStatus = "voided" | "expired";

/**
 * Closing a pending hold, exactly once: settle (charge the measured cost, never more than held, and return the rest),
 * void (no charge), or expire (the alarm's void). A hold already closed answers its first outcome. Each writes in one
 * transaction and memory follows once it returned, so a throw leaves the book as it was.
 */
export class HoldClosing {
  constructor(
    private book: LedgerBook,
    private earnings: LedgerEarnings,
    private money: LedgerMoney,
    /** a transaction whose failure rebuilds memory from SQLite (for the payments module's auto-recharge claim) */
    private safeTx: <T>(fn: () => T) => T,
  ) {}

  settle(id: string, gpuMs: number, gpuClass: string | null, now: number, earner?: Earner): SettleResult {
    if (!Number.isSafeInteger(gpuMs) || gpuMs < 0) return { error: "invalid_input" };
    const book = this.book;
    const h = book.pending.get(id);
    if (!h) return book.closedOutcome(id) ?? { error: "not_found" };
    const s = book.s!;
    const c = priceOf(h.pricing, h.amount, gpuMs, gpuClass);
    const next: State = { ...s, held: s.held - h.amount, spent: s.spent + c };
    book.tx(() => {
      book.sql.exec(`UPDATE holds SET status = 'settled', charge = ?, resolved_at = ? WHERE id = ?`, c, now, id);
      book.writeBalances(next);
      book.journal(book.seq + 1, `${id}:settle`, "settle", c, id, null, now, next);
      if (earner) this.earnings.split(id, earner, c, gpuMs, gpuClass, now);
    });
    book.advance(next, 1);
    book.pending.delete(id);
    const auto = this.money.due(now) ? this.safeTx(() => this.money.claim(s.account_id, now)) : null;
    return {
      status: "settled",
      amount: h.amount,
      charge: c,
      first: true,
      available: book.available(),
      ...(auto ? { auto_recharge: auto } : {}),
    };
  }

  /** Voids (or expires) the whole hold; platform failures also give the call back to the quota. */
  void(id: string, status: VoidStatus, reason: string, now: number): HoldOutcome | null {
    const book = this.book;
    const h = book.pending.get(id);
    if (!h) return book.closedOutcome(id);
    const next = book.tx(() => this.writeVoid(id, h, status, reason, now, book.s!, book.seq + 1));
    book.advance(next, 1);
    book.pending.delete(id);
    return { status, amount: h.amount, charge: 0, first: true, available: book.available() };
  }

  /** Expires every pending hold whose deadline is at or before `now`, in one transaction. Firing twice changes nothing. */
  expire(now: number): number {
    const book = this.book;
    const due = [...book.pending].filter(([, h]) => h.deadline <= now);
    if (due.length === 0) return 0;
    const next = book.tx(() => {
      let cur = book.s!;
      due.forEach(([id, h], i) => (cur = this.writeVoid(id, h, "expired", "expired", now, cur, book.seq + 1 + i)));
      return cur;
    });
    book.advance(next, due.length);
    for (const [id] of due) book.pending.delete(id);
    return due.length;
  }

  /** The writes that void a pending hold (inside the caller's transaction); returns the state after them. */
  private writeVoid(
    id: string,
    h: PendingHold,
    status: VoidStatus,
    reason: string,
    now: number,
    cur: State,
    seq: number,
  ): State {
    const quotaBack = voidGivesFreeCallBack(reason) && cur.quota_day === h.day;
    const next: State = {
      ...cur,
      held: cur.held - h.amount,
      quota_used: quotaBack ? Math.max(0, cur.quota_used - 1) : cur.quota_used,
    };
    const kind = status === "voided" ? "void" : "expire";
    this.book.sql.exec(
      `UPDATE holds SET status = ?, resolved_at = ?, reason = ? WHERE id = ?`,
      status,
      now,
      reason,
      id,
    );
    this.book.writeBalances(next);
    this.book.journal(seq, `${id}:${kind}`, kind, h.amount, id, reason, now, next);
    return next;
  }
}
