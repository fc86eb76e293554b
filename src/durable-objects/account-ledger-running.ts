import type { Plan } from "../../schemas/index.ts";
import type { Earner } from "./account-ledger-earnings.ts";

/**
 * Running holds: the money side of a dedicated endpoint, composed into the AccountLedger.
 *
 * An endpoint keeps one hold open for as long as it has instances (about 15 minutes of runway). Every tick of its
 * clock captures what its instances accrued since the last tick (held → spent) and tops the hold back up to the
 * target (available → held). A tick is idempotent by (hold, seq): the endpoint records the tick it is sending before
 * it sends it and resends the same tick after a crash, so a tick is never applied twice nor skipped. A capture never
 * takes more than is held, so `available` never goes below zero: what the hold cannot cover is written off and
 * counted. `deposits == available + held + spent` holds after each step: every step moves one amount between two of
 * the three in one transaction.
 */
export const RUNNING_DDL = [
  `CREATE TABLE IF NOT EXISTS running_holds (
    id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    captured INTEGER NOT NULL DEFAULT 0,
    written_off INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS running_ticks (
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    charge INTEGER NOT NULL,
    captured INTEGER NOT NULL,
    written_off INTEGER NOT NULL,
    held_after INTEGER NOT NULL,
    topped_up INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (id, seq)
  ) WITHOUT ROWID`,
];

/** One instance's part of a tick's charge, for the provider's earnings. */
export interface TickEarner extends Earner {
  charge: number;
  billed_ms: number;
  gpu_class: string;
}

export interface RunningTick {
  /** the endpoint's tick number: the idempotency key with the hold id */
  seq: number;
  /** what the instances accrued since the last tick (micro-USD) */
  charge: number;
  /** what the hold should hold after the tick; 0 closes nothing by itself */
  target: number;
  earners: TickEarner[];
  /** closes the hold: the rest returns to available and later ticks are refused */
  close?: boolean;
}

export interface TickResult {
  ok: true;
  seq: number;
  captured: number;
  written_off: number;
  held: number;
  /** false when the account could not fund the target: the endpoint suspends */
  topped_up: boolean;
  available: number;
  /** hold ids whose provider splits the caller delivers to the providers' ledgers */
  split_ids: string[];
  replayed: boolean;
}

export type RaiseResult =
  | { ok: true; held: number; available: number }
  | { ok: false; code: "insufficient_credits" | "invalid_input"; held: number; available: number };

interface Balances {
  deposits: number;
  spent: number;
  held: number;
}

/** What the ledger lends the module. */
export interface RunningHost {
  sql: SqlStorage;
  tx<T>(fn: () => T): T;
  ensure(accountId: string, plan: Plan): void;
  balances(): Balances;
  /** writes new held/spent to the state row and journals one movement (inside the caller's transaction) */
  shift(
    opId: string,
    kind: string,
    d: { held: number; spent: number },
    amount: number,
    holdId: string,
    reason: string | null,
    now: number,
  ): void;
  split(holdId: string, e: Earner, charge: number, gpuMs: number, gpuClass: string | null, now: number): void;
}

type HoldRow = { id: string; amount: number; captured: number; written_off: number; status: string };
type TickRow = { seq: number; captured: number; written_off: number; held_after: number; topped_up: number };
const safe = (n: number) => Number.isSafeInteger(n) && n >= 0;

export class RunningHolds {
  constructor(private h: RunningHost) {}

  private row(id: string): HoldRow | undefined {
    return this.h.sql.exec<HoldRow>(`SELECT * FROM running_holds WHERE id = ?`, id).toArray()[0];
  }

  private available(): number {
    const b = this.h.balances();
    return b.deposits - b.spent - b.held;
  }

  /**
   * Raises (or lowers) the hold to `target`. Raising needs the difference available; nothing changes when it is not.
   * Absolute, so a repeat is harmless.
   */
  raise(accountId: string, plan: Plan, id: string, target: number, now: number): RaiseResult {
    this.h.ensure(accountId, plan);
    if (!safe(target)) return { ok: false, code: "invalid_input", held: 0, available: this.available() };
    return this.h.tx(() => {
      let r = this.row(id);
      if (!r) {
        this.h.sql.exec(`INSERT INTO running_holds (id, amount, status, created_at) VALUES (?, 0, 'open', ?)`, id, now);
        r = this.row(id)!;
      } else if (r.status === "closed") {
        // A closed hold (a deleted endpoint) reopens only as a fresh session: the endpoint asks again after resume.
        this.h.sql.exec(`UPDATE running_holds SET status = 'open' WHERE id = ?`, id);
      }
      const delta = target - r.amount;
      if (delta > this.available())
        return {
          ok: false as const,
          code: "insufficient_credits" as const,
          held: r.amount,
          available: this.available(),
        };
      if (delta !== 0) this.move(id, delta, `raise to ${target}`, now);
      return { ok: true as const, held: target, available: this.available() };
    });
  }

  /** Captures a tick's charge (capped at what is held) and tops up to the target, once per (id, seq). */
  tick(id: string, t: RunningTick, now: number): TickResult | { ok: false; code: "not_found" | "invalid_input" } {
    if (!safe(t.charge) || !safe(t.target) || !Number.isSafeInteger(t.seq)) return { ok: false, code: "invalid_input" };
    const r = this.row(id);
    if (!r) return { ok: false, code: "not_found" };
    const done = this.h.sql
      .exec<TickRow>(`SELECT * FROM running_ticks WHERE id = ? AND seq = ?`, id, t.seq)
      .toArray()[0];
    if (done) {
      return {
        ok: true,
        seq: t.seq,
        captured: done.captured,
        written_off: done.written_off,
        held: done.held_after,
        topped_up: done.topped_up === 1,
        available: this.available(),
        split_ids: this.splitIds(id, t),
        replayed: true,
      };
    }
    return this.h.tx(() => {
      const captured = Math.min(t.charge, r.amount);
      const writtenOff = t.charge - captured;
      if (captured > 0) {
        this.h.shift(
          `${id}:${t.seq}:capture`,
          "capture",
          { held: -captured, spent: captured },
          captured,
          id,
          `tick ${t.seq}`,
          now,
        );
      }
      let held = r.amount - captured;
      const target = t.close ? 0 : t.target;
      const delta = target - held;
      const toppedUp = delta <= this.available();
      if (delta !== 0 && (delta < 0 || toppedUp)) {
        this.move(id, delta, t.close ? "closed" : `top up to ${target}`, now, `${id}:${t.seq}:topup`);
        held = target;
      }
      this.h.sql.exec(
        `UPDATE running_holds SET amount = ?, captured = captured + ?, written_off = written_off + ?, status = ? WHERE id = ?`,
        held,
        captured,
        writtenOff,
        t.close ? "closed" : "open",
        id,
      );
      this.h.sql.exec(
        `INSERT INTO running_ticks (id, seq, charge, captured, written_off, held_after, topped_up, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        t.seq,
        t.charge,
        captured,
        writtenOff,
        held,
        toppedUp ? 1 : 0,
        now,
      );
      // Providers earn their share of what was captured, instance by instance (a write-off scales every part down).
      for (const e of t.earners) {
        if (!safe(e.charge) || e.charge === 0) continue;
        const part = t.charge === captured ? e.charge : Math.floor((e.charge * captured) / Math.max(1, t.charge));
        this.h.split(`${id}:${t.seq}:${e.agent_id}`, e, part, e.billed_ms, e.gpu_class, now);
      }
      return {
        ok: true as const,
        seq: t.seq,
        captured,
        written_off: writtenOff,
        held,
        topped_up: toppedUp,
        available: this.available(),
        split_ids: this.splitIds(id, t),
        replayed: false,
      };
    });
  }

  view(id: string): { held: number; captured: number; written_off: number; status: string } | null {
    const r = this.row(id);
    return r ? { held: r.amount, captured: r.captured, written_off: r.written_off, status: r.status } : null;
  }

  private splitIds(id: string, t: RunningTick): string[] {
    return t.earners.filter((e) => e.charge > 0).map((e) => `${id}:${t.seq}:${e.agent_id}`);
  }

  private move(id: string, delta: number, reason: string, now: number, opId?: string): void {
    const key = opId ?? `${id}:hold:${now}:${crypto.randomUUID()}`;
    // A lowered hold's journal kind keeps its first spelling, `release` (rows already written use it).
    this.h.shift(key, delta > 0 ? "hold" : "release", { held: delta, spent: 0 }, Math.abs(delta), id, reason, now);
    this.h.sql.exec(`UPDATE running_holds SET amount = amount + ? WHERE id = ?`, delta, id);
  }
}
