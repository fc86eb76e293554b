import type { Plan } from "../../schemas/index.ts";
import { charge as priceOf, type HoldPricing } from "../services/pricing.ts";

/**
 * Grouped holds: one hold for a whole workflow run, composed into the AccountLedger.
 *
 * The run is admitted once (one rate-limit token, one in-flight slot, one call of the daily quota: a free-plan run
 * counts as one call however many nodes it has) for Σ of its nodes' maximum costs, as an ordinary hold whose id is the
 * run id. Each node is then captured once, by (run, node), when it completes: its charge is priced like a single
 * request (`min(max, price(gpu_ms))`) and stays held, and the rest of its share is released at once, so the hold's
 * amount shrinks to Σ captured + Σ max of the nodes not yet captured. Closing the group either commits (captured
 * charges move to spent, uncaptured shares are released: the end of a run, or a caller's cancel) or voids (everything
 * is released, captures included: any platform or model failure). Expiry of the hold (the ledger's alarm) voids it.
 * `deposits == available + held + spent` holds after every step because each step is one transaction that moves the
 * same amount out of `held` as it moves into `spent` or `available`.
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

export interface GroupNode {
  node: string;
  max: number;
  pricing: HoldPricing;
}

export interface GroupReserve {
  /** the run id: the hold's id */
  id: string;
  nodes: GroupNode[];
  ttl_ms: number;
  /** every node's model is free (free-plan accounts may run only those) */
  model_free: boolean;
}

export type CaptureResult =
  | { ok: true; node: string; charge: number; released: number; first: boolean; held: number; available: number }
  | { ok: false; error: "not_found" | "closed" | "invalid_input" };

export interface GroupOutcome {
  status: "pending" | "settled" | "voided" | "expired";
  /** what the group's hold still holds (while pending), or its final charge once resolved */
  held: number;
  charge: number;
  reserved: number;
  first: boolean;
  available: number;
  nodes: { node: string; max: number; charge: number; status: string }[];
}

interface Balances {
  deposits: number;
  spent: number;
  held: number;
}

/** What the ledger lends the module: its storage, its in-memory state, and the primitives it already has. */
export interface LedgerHost<S extends Balances, A extends { ok: boolean }> {
  sql: SqlStorage;
  transaction<T>(fn: () => T): T;
  state(): S;
  /** the pending holds in memory, by id (its `amount` is what each still holds) */
  pending(): Map<string, { amount: number; pricing: HoldPricing; deadline: number; day: string }>;
  seq(): number;
  /** memory follows a transaction that returned: new state, journal rows written */
  advance(next: S, rows: number): void;
  admit(
    accountId: string,
    plan: Plan,
    req: { id: string; amount: number; pricing: HoldPricing; ttl_ms: number; model_free: boolean },
    now: number,
  ): A;
  writeBalances(next: S): void;
  journal(
    seq: number,
    opId: string,
    kind: string,
    amount: number,
    holdId: string | null,
    reason: string | null,
    now: number,
    after: S,
  ): void;
  release(id: string, reason: string, now: number): unknown;
  reload(): void;
}

type NodeRow = { node: string; max: number; pricing: string; status: string; charge: number };
const ROLLBACK = Symbol("rollback");

export class GroupHolds<S extends Balances, A extends { ok: boolean; hold?: number; replayed?: boolean }> {
  constructor(private h: LedgerHost<S, A>) {}

  /** One admission for the whole run; the nodes' shares are recorded with it, in the same transaction. */
  reserve(accountId: string, plan: Plan, req: GroupReserve, now: number): A {
    const total = req.nodes.reduce((a, n) => a + n.max, 0);
    if (!req.nodes.every((n) => Number.isSafeInteger(n.max) && n.max >= 0) || !Number.isSafeInteger(total)) {
      return {
        ok: false,
        code: "invalid_input",
        message: "node maxima must be non-negative safe integers",
        available: 0,
      } as unknown as A;
    }
    let result!: A;
    try {
      this.h.transaction(() => {
        result = this.h.admit(
          accountId,
          plan,
          {
            id: req.id,
            amount: total,
            pricing: { kind: "fixed", amount: total },
            ttl_ms: req.ttl_ms,
            model_free: req.model_free,
          },
          now,
        );
        if (!result.ok) throw ROLLBACK;
        if (result.replayed) return;
        // A plan that holds nothing (the free plan pays with its quota) gives every node a zero share.
        const scale = result.hold === total;
        for (const n of req.nodes) {
          this.h.sql.exec(
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

  /** Captures one node's charge (once per node: a retry or a duplicate event returns the first outcome). */
  capture(group: string, node: string, gpuMs: number, gpuClass: string | null, now: number): CaptureResult {
    if (!Number.isSafeInteger(gpuMs) || gpuMs < 0) return { ok: false, error: "invalid_input" };
    const row = this.h.sql
      .exec<NodeRow>(
        `SELECT node, max, pricing, status, charge FROM group_nodes WHERE group_id = ? AND node = ?`,
        group,
        node,
      )
      .toArray()[0];
    if (!row) return { ok: false, error: "not_found" };
    const pend = this.h.pending().get(group);
    const available = () => {
      const s = this.h.state();
      return s.deposits - s.spent - s.held;
    };
    if (row.status === "captured")
      return {
        ok: true,
        node,
        charge: row.charge,
        released: row.max - row.charge,
        first: false,
        held: pend?.amount ?? 0,
        available: available(),
      };
    if (!pend || row.status !== "pending") return { ok: false, error: "closed" };
    const c = priceOf(JSON.parse(row.pricing) as HoldPricing, row.max, gpuMs, gpuClass);
    const released = row.max - c;
    const s = this.h.state();
    const next = { ...s, held: s.held - released };
    const seq = this.h.seq();
    this.h.transaction(() => {
      this.h.sql.exec(
        `UPDATE group_nodes SET status = 'captured', charge = ?, captured_at = ? WHERE group_id = ? AND node = ?`,
        c,
        now,
        group,
        node,
      );
      this.h.sql.exec(`UPDATE holds SET amount = amount - ? WHERE id = ?`, released, group);
      this.h.writeBalances(next);
      this.h.journal(
        seq + 1,
        `${group}:${node}:capture`,
        "capture",
        c,
        group,
        `node ${node}; ${released} released`,
        now,
        next,
      );
    });
    this.h.advance(next, 1);
    pend.amount -= released;
    return { ok: true, node, charge: c, released, first: true, held: pend.amount, available: available() };
  }

  /**
   * Resolves the group: `commit` charges what was captured and releases the rest (a completed run, or a caller's
   * cancel); `void` releases everything (any failure). A resolved group returns its first outcome.
   */
  close(group: string, mode: "commit" | "void", reason: string, now: number): GroupOutcome | null {
    const pend = this.h.pending().get(group);
    if (!pend) return this.outcome(group, false);
    if (mode === "void") {
      this.h.transaction(() => {
        this.h.release(group, reason, now);
        this.h.sql.exec(`UPDATE group_nodes SET status = 'voided' WHERE group_id = ? AND status = 'pending'`, group);
      });
      return this.outcome(group, true);
    }
    const captured =
      this.h.sql
        .exec<{ c: number | null }>(
          `SELECT SUM(charge) AS c FROM group_nodes WHERE group_id = ? AND status = 'captured'`,
          group,
        )
        .one().c ?? 0;
    const s = this.h.state();
    const next = { ...s, held: s.held - pend.amount, spent: s.spent + captured };
    const seq = this.h.seq();
    this.h.transaction(() => {
      this.h.sql.exec(
        `UPDATE holds SET status = 'settled', charge = ?, resolved_at = ?, reason = ? WHERE id = ?`,
        captured,
        now,
        reason,
        group,
      );
      this.h.sql.exec(`UPDATE group_nodes SET status = 'voided' WHERE group_id = ? AND status = 'pending'`, group);
      this.h.writeBalances(next);
      this.h.journal(seq + 1, `${group}:commit`, "settle", captured, group, reason, now, next);
    });
    this.h.advance(next, 1);
    this.h.pending().delete(group);
    return this.outcome(group, true);
  }

  outcome(group: string, first: boolean): GroupOutcome | null {
    const hold = this.h.sql
      .exec<{ status: GroupOutcome["status"]; amount: number; charge: number }>(
        `SELECT status, amount, charge FROM holds WHERE id = ?`,
        group,
      )
      .toArray()[0];
    if (!hold) return null;
    const nodes = this.h.sql
      .exec<NodeRow>(
        `SELECT node, max, pricing, status, charge FROM group_nodes WHERE group_id = ? ORDER BY node`,
        group,
      )
      .toArray()
      .map((n) => ({ node: n.node, max: n.max, charge: n.charge, status: n.status }));
    const s = this.h.state();
    return {
      status: hold.status,
      held: hold.status === "pending" ? hold.amount : 0,
      charge: hold.status === "settled" ? hold.charge : 0,
      reserved: nodes.reduce((a, n) => a + n.max, 0),
      first,
      available: s.deposits - s.spent - s.held,
      nodes,
    };
  }
}
