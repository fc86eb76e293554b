import type { Plan } from "../../schemas/index.ts";
import { charge as priceOf, type HoldPricing } from "../services/pricing.ts";
import type { LedgerBook } from "./account-ledger-book.ts";
import type {
  AdmitRequest,
  AdmitResult,
  GroupOutcome,
  GroupReserve,
  NodeSettleResult,
} from "./account-ledger-types.ts";

/**
 * Group holds: one hold for a whole workflow run, composed into the AccountLedger.
 *
 * The run is admitted once (one rate-limit token, one in-flight slot, one call of the daily quota: a free-plan run
 * counts as one call however many nodes it has) for Σ of its nodes' maximum costs, as an ordinary hold whose id is the
 * run id. Each node's share is then settled once, by (run, node), when the node completes: its charge is priced like a
 * single request (`min(max, price(gpu_ms))`) and stays held, and the rest of its share returns to available at once,
 * so the hold's amount shrinks to Σ node charges + Σ max of the nodes not yet settled. Closing the group either
 * settles it (the node charges move to spent, unsettled shares return: the end of a run, or a caller's cancel) or
 * voids it (everything returns, node charges included: any platform or model failure). The alarm expires it like any
 * hold. `deposits == available + held + spent` holds after every step because each step is one transaction that moves
 * the same amount out of `held` as it moves into `spent` or `available`. Stored values keep their first spelling: a
 * settled node's row says 'captured' and its journal entry is a `capture` (op id `{run}:{node}:capture`).
 */
export const GROUP_DDL = `CREATE TABLE IF NOT EXISTS group_nodes (
  group_id TEXT NOT NULL,
  node TEXT NOT NULL,
  max INTEGER NOT NULL CHECK (max >= 0),
  pricing TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'captured', 'voided')),
  charge INTEGER NOT NULL DEFAULT 0 CHECK (charge >= 0 AND charge <= max),
  captured_at INTEGER,
  PRIMARY KEY (group_id, node)
) WITHOUT ROWID`;

/** What the ledger lends the module besides its book. */
export interface GroupHost {
  book: LedgerBook;
  admit(accountId: string, plan: Plan, req: AdmitRequest, now: number): AdmitResult;
  voidHold(id: string, reason: string, now: number): unknown;
  reload(): void;
}

type NodeRow = { node: string; max: number; pricing: string; status: string; charge: number };
const ROLLBACK = Symbol("rollback");

export class GroupHolds {
  private book: LedgerBook;

  constructor(private h: GroupHost) {
    this.book = h.book;
  }

  /** One admission for the whole run; the nodes' shares are recorded with it, in the same transaction. */
  reserve(accountId: string, plan: Plan, req: GroupReserve, now: number): AdmitResult {
    const total = req.nodes.reduce((a, n) => a + n.max, 0);
    if (!req.nodes.every((n) => Number.isSafeInteger(n.max) && n.max >= 0) || !Number.isSafeInteger(total)) {
      return {
        ok: false,
        code: "invalid_input",
        message: "node maxima must be non-negative safe integers",
        available: 0,
      };
    }
    let result!: AdmitResult;
    try {
      this.book.tx(() => {
        const pricing: HoldPricing = { kind: "fixed", amount: total };
        const hold = { id: req.id, amount: total, pricing, ttl_ms: req.ttl_ms, model_free: req.model_free };
        result = this.h.admit(accountId, plan, hold, now);
        if (!result.ok) throw ROLLBACK;
        if (result.replayed) return;
        // A plan that holds nothing (the free plan pays with its quota) gives every node a zero share.
        const scale = result.hold === total;
        for (const n of req.nodes) {
          this.book.sql.exec(
            `INSERT INTO group_nodes (group_id, node, max, pricing, status) VALUES (?, ?, ?, ?, 'pending') ON CONFLICT DO NOTHING`,
            req.id,
            n.node,
            scale ? n.max : 0,
            JSON.stringify(scale ? n.pricing : { kind: "fixed", amount: 0 }),
          );
        }
      });
    } catch (e) {
      if (e !== ROLLBACK) {
        this.h.reload();
        throw e;
      }
    }
    return result;
  }

  /** Settles one node's share (once per node: a retry or a duplicate event returns the first outcome). */
  settleNode(group: string, node: string, gpuMs: number, gpuClass: string | null, now: number): NodeSettleResult {
    if (!Number.isSafeInteger(gpuMs) || gpuMs < 0) return { ok: false, error: "invalid_input" };
    const book = this.book;
    const row = book.sql
      .exec<NodeRow>(
        `SELECT node, max, pricing, status, charge FROM group_nodes WHERE group_id = ? AND node = ?`,
        group,
        node,
      )
      .toArray()[0];
    if (!row) return { ok: false, error: "not_found" };
    const pend = book.pending.get(group);
    if (row.status === "captured") {
      const returned = row.max - row.charge;
      return {
        ok: true,
        node,
        charge: row.charge,
        returned,
        first: false,
        held: pend?.amount ?? 0,
        available: book.available(),
      };
    }
    if (!pend || row.status !== "pending") return { ok: false, error: "closed" };
    const c = priceOf(JSON.parse(row.pricing) as HoldPricing, row.max, gpuMs, gpuClass);
    const returned = row.max - c;
    const s = book.s!;
    const next = { ...s, held: s.held - returned };
    book.tx(() => {
      book.sql.exec(
        `UPDATE group_nodes SET status = 'captured', charge = ?, captured_at = ? WHERE group_id = ? AND node = ?`,
        c,
        now,
        group,
        node,
      );
      book.sql.exec(`UPDATE holds SET amount = amount - ? WHERE id = ?`, returned, group);
      book.writeBalances(next);
      const reason = `node ${node}; ${returned} returned`;
      book.journal(book.seq + 1, `${group}:${node}:capture`, "capture", c, group, reason, now, next);
    });
    book.advance(next, 1);
    pend.amount -= returned;
    return { ok: true, node, charge: c, returned, first: true, held: pend.amount, available: book.available() };
  }

  /**
   * Closes the group: `settle` charges the settled nodes and returns the rest (a completed run, or a caller's
   * cancel); `void` returns everything (any failure). A closed group returns its first outcome.
   */
  close(group: string, mode: "settle" | "void", reason: string, now: number): GroupOutcome | null {
    const book = this.book;
    const pend = book.pending.get(group);
    if (!pend) return this.outcome(group, false);
    if (mode === "void") {
      book.tx(() => {
        this.h.voidHold(group, reason, now);
        book.sql.exec(`UPDATE group_nodes SET status = 'voided' WHERE group_id = ? AND status = 'pending'`, group);
      });
      return this.outcome(group, true);
    }
    const charged =
      book.sql
        .exec<{ c: number | null }>(
          `SELECT SUM(charge) AS c FROM group_nodes WHERE group_id = ? AND status = 'captured'`,
          group,
        )
        .one().c ?? 0;
    const s = book.s!;
    const next = { ...s, held: s.held - pend.amount, spent: s.spent + charged };
    book.tx(() => {
      book.sql.exec(
        `UPDATE holds SET status = 'settled', charge = ?, resolved_at = ?, reason = ? WHERE id = ?`,
        charged,
        now,
        reason,
        group,
      );
      book.sql.exec(`UPDATE group_nodes SET status = 'voided' WHERE group_id = ? AND status = 'pending'`, group);
      book.writeBalances(next);
      // `{run}:commit`: the op id a group settle has always had
      book.journal(book.seq + 1, `${group}:commit`, "settle", charged, group, reason, now, next);
    });
    book.advance(next, 1);
    book.pending.delete(group);
    return this.outcome(group, true);
  }

  outcome(group: string, first: boolean): GroupOutcome | null {
    const sql = this.book.sql;
    const hold = sql
      .exec<{ status: GroupOutcome["status"]; amount: number; charge: number }>(
        `SELECT status, amount, charge FROM holds WHERE id = ?`,
        group,
      )
      .toArray()[0];
    if (!hold) return null;
    const nodes = sql
      .exec<NodeRow>(
        `SELECT node, max, pricing, status, charge FROM group_nodes WHERE group_id = ? ORDER BY node`,
        group,
      )
      .toArray()
      .map((n) => ({ node: n.node, max: n.max, charge: n.charge, status: n.status }));
    return {
      status: hold.status,
      held: hold.status === "pending" ? hold.amount : 0,
      charge: hold.status === "settled" ? hold.charge : 0,
      reserved: nodes.reduce((a, n) => a + n.max, 0),
      first,
      available: this.book.available(),
      nodes,
    };
  }
}
