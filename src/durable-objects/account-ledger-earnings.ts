import { charge as priceOf, type HoldPricing } from "../services/pricing.ts";
import type { EarningRow, SplitRow } from "./account-ledger-money-sql.ts";

/** Who earns from a hold: given to the settle by the caller, from the broker's lease (agent → provider). */
export interface Earner {
  provider_id: string;
  agent_id: string;
  /** the provider's share in basis points (8000 = 80%) */
  share_bp: number;
  model: string;
}

export interface EarningsReport {
  totals: {
    earned: number;
    platform_paid: number;
    paid_out: number;
    balance: number;
    jobs: number;
    gpu_ms: number;
    charged: number;
  };
  by_agent: Group[];
  by_model: Group[];
  by_gpu_class: Group[];
  by_day: Group[];
}
export type Group = { key: string; earned: number; jobs: number; gpu_ms: number };
export type PayoutRow = { op_id: string; amount: number; reference: string | null; created_at: number };
/** A provider's statement of a period: its earnings one by one, its payouts and the report. */
export interface Statement {
  rows: EarningRow[];
  payouts: PayoutRow[];
  report: EarningsReport;
}

export const DEFAULT_SHARE_BP = 8000;

/** The provider's part of a charge: rounded down, so the platform's fee takes the odd micro-USD and the split is exact. */
export function providerShare(charge: number, shareBp: number): number {
  const bp = Number.isSafeInteger(shareBp) && shareBp >= 0 && shareBp <= 10_000 ? shareBp : DEFAULT_SHARE_BP;
  return Math.floor((charge * bp) / 10_000);
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Provider earnings, two sides. In a caller's ledger, each settled charge is split (in the settle's transaction) into
 * the provider's earning and the platform's fee: `charge == earn + fee` per row, so Σ charges == Σ earnings + platform
 * revenue by construction. In a provider's ledger (`provider:{id}`), the splits arrive idempotently by their op id,
 * and payouts are debits against the earned balance.
 */
export class LedgerEarnings {
  constructor(
    private sql: SqlStorage,
    private tx: <T>(fn: () => T) => T,
  ) {}

  /** Inside the settle's transaction. */
  split(holdId: string, e: Earner, charge: number, gpuMs: number, gpuClass: string | null, now: number): void {
    const earn = providerShare(charge, e.share_bp);
    this.sql.exec(
      `INSERT INTO splits (op_id, hold_id, provider_id, agent_id, model, gpu_class, gpu_ms, charge, earn, fee, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`,
      `${holdId}:settle`,
      holdId,
      e.provider_id,
      e.agent_id,
      e.model,
      gpuClass,
      gpuMs,
      charge,
      earn,
      charge - earn,
      now,
    );
  }

  /**
   * The platform voided the caller's hold for its own reasons after the provider did valid work (output moderation):
   * the caller pays nothing and the platform pays the provider's share of what the work would have cost, from its fee.
   */
  platformPays(
    holdId: string,
    e: Earner,
    pricing: HoldPricing,
    holdAmount: number,
    gpuMs: number,
    gpuClass: string | null,
    now: number,
  ): SplitRow | null {
    const earn = providerShare(priceOf(pricing, holdAmount, gpuMs, gpuClass), e.share_bp);
    if (earn <= 0) return null;
    const op = `${holdId}:platform_share`;
    this.tx(() =>
      this.sql.exec(
        `INSERT INTO splits (op_id, hold_id, provider_id, agent_id, model, gpu_class, gpu_ms, charge, earn, fee, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`,
        op,
        holdId,
        e.provider_id,
        e.agent_id,
        e.model,
        gpuClass,
        gpuMs,
        earn,
        -earn,
        now,
      ),
    );
    return this.sql.exec<SplitRow>(`SELECT * FROM splits WHERE op_id = ?`, op).toArray()[0] ?? null;
  }

  splitsOf(holdId: string): SplitRow[] {
    return this.sql.exec<SplitRow>(`SELECT * FROM splits WHERE hold_id = ?`, holdId).toArray();
  }

  // ---- the provider's side --------------------------------------------------------------------------------------

  /** Records a split as the provider's earning; a split seen before changes nothing. */
  record(accountId: string, s: SplitRow): boolean {
    const kind = s.charge === 0 && s.fee < 0 ? "platform_paid" : "earning";
    const w = this.tx(() =>
      this.sql.exec(
        `INSERT INTO earnings (op_id, kind, account_id, agent_id, model, gpu_class, gpu_ms, charge, earn, day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (op_id) DO NOTHING`,
        s.op_id,
        kind,
        accountId,
        s.agent_id,
        s.model,
        s.gpu_class,
        s.gpu_ms,
        s.charge,
        s.earn,
        dayOf(s.created_at),
        s.created_at,
      ),
    );
    return w.rowsWritten > 0;
  }

  balance(): { earned: number; paid_out: number; balance: number } {
    const earned = this.sql.exec<{ n: number }>(`SELECT COALESCE(SUM(earn), 0) AS n FROM earnings`).one().n;
    const paid = this.sql.exec<{ n: number }>(`SELECT COALESCE(SUM(amount), 0) AS n FROM payouts`).one().n;
    return { earned, paid_out: paid, balance: earned - paid };
  }

  /** A payout, idempotent by op id; never more than the earned balance. */
  payout(
    opId: string,
    amount: number,
    reference: string | null,
    now: number,
  ):
    | { ok: true; op_id: string; amount: number; balance: number; replayed: boolean }
    | { ok: false; code: "invalid_input" | "insufficient_credits" | "idempotency_conflict"; message: string } {
    if (!Number.isSafeInteger(amount) || amount <= 0)
      return { ok: false, code: "invalid_input", message: "amount must be a positive integer of micro-USD" };
    const id = `payout:${opId}`;
    const prior = this.sql.exec<{ amount: number }>(`SELECT amount FROM payouts WHERE op_id = ?`, id).toArray()[0];
    if (prior) {
      if (prior.amount !== amount)
        return {
          ok: false,
          code: "idempotency_conflict",
          message: "this idempotency key was used with another amount",
        };
      return { ok: true, op_id: id, amount, balance: this.balance().balance, replayed: true };
    }
    const { balance } = this.balance();
    if (amount > balance)
      return {
        ok: false,
        code: "insufficient_credits",
        message: `cannot pay out ${amount}; ${balance} earned and unpaid`,
      };
    this.tx(() =>
      this.sql.exec(
        `INSERT INTO payouts (op_id, amount, reference, created_at) VALUES (?, ?, ?, ?)`,
        id,
        amount,
        reference,
        now,
      ),
    );
    return { ok: true, op_id: id, amount, balance: balance - amount, replayed: false };
  }

  report(from: number, to: number): EarningsReport {
    const where = `created_at >= ? AND created_at < ?`;
    const group = (col: string): Group[] =>
      this.sql
        .exec<Group>(
          `SELECT COALESCE(${col}, 'unknown') AS key, SUM(earn) AS earned, COUNT(*) AS jobs, SUM(gpu_ms) AS gpu_ms FROM earnings WHERE ${where} GROUP BY ${col} ORDER BY key`,
          from,
          to,
        )
        .toArray();
    const t = this.sql
      .exec<{ earned: number; pp: number; jobs: number; gpu_ms: number; charged: number }>(
        `SELECT COALESCE(SUM(earn), 0) AS earned, COALESCE(SUM(CASE WHEN kind = 'platform_paid' THEN earn ELSE 0 END), 0) AS pp, COUNT(*) AS jobs,
         COALESCE(SUM(gpu_ms), 0) AS gpu_ms, COALESCE(SUM(charge), 0) AS charged FROM earnings WHERE ${where}`,
        from,
        to,
      )
      .one();
    const paid = this.sql
      .exec<{ n: number }>(`SELECT COALESCE(SUM(amount), 0) AS n FROM payouts WHERE ${where}`, from, to)
      .one().n;
    return {
      totals: {
        earned: t.earned,
        platform_paid: t.pp,
        paid_out: paid,
        balance: this.balance().balance,
        jobs: t.jobs,
        gpu_ms: t.gpu_ms,
        charged: t.charged,
      },
      by_agent: group("agent_id"),
      by_model: group("model"),
      by_gpu_class: group("gpu_class"),
      by_day: group("day"),
    };
  }

  rows(from: number, to: number): EarningRow[] {
    return this.sql
      .exec<EarningRow>(
        `SELECT * FROM earnings WHERE created_at >= ? AND created_at < ? ORDER BY created_at, op_id`,
        from,
        to,
      )
      .toArray();
  }

  payouts(from: number, to: number): PayoutRow[] {
    return this.sql
      .exec<PayoutRow>(`SELECT * FROM payouts WHERE created_at >= ? AND created_at < ? ORDER BY created_at`, from, to)
      .toArray();
  }

  statement(from: number, to: number): Statement {
    return { rows: this.rows(from, to), payouts: this.payouts(from, to), report: this.report(from, to) };
  }
}
