import type { Plan } from "../../schemas/index.ts";
import type { LedgerBook, State } from "./account-ledger-book.ts";
import type { AdjustResult } from "./account-ledger-types.ts";

export const isAmount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n > 0;

/** Credit or debit, idempotent by operation id; a repeat with other parameters is a conflict. */
export function adjust(
  book: LedgerBook,
  accountId: string,
  planHint: Plan,
  kind: "credit" | "debit",
  opId: string,
  amount: number,
  reason: string,
  now: number,
): AdjustResult {
  if (!isAmount(amount))
    return { ok: false, code: "invalid_input", message: "amount must be a positive integer of micro-USD below 2^53" };
  const s = book.ensure(accountId, planHint);
  const id = `${kind}:${opId}`;
  const available = s.deposits - s.spent - s.held;
  const prior = book.sql
    .exec<{ kind: string; amount: number }>(`SELECT kind, amount FROM journal WHERE op_id = ?`, id)
    .toArray()[0];
  if (prior) {
    if (prior.amount !== amount)
      return { ok: false, code: "idempotency_conflict", message: "this idempotency key was used with another amount" };
    return { ok: true, op_id: id, kind, amount, available, replayed: true };
  }
  if (kind === "debit" && available < amount)
    return { ok: false, code: "insufficient_credits", message: `cannot debit ${amount}; ${available} available` };
  if (kind === "credit" && !Number.isSafeInteger(s.deposits + amount))
    return { ok: false, code: "invalid_input", message: "the balance would exceed 2^53 micro-USD" };
  const next: State = kind === "credit" ? { ...s, deposits: s.deposits + amount } : { ...s, spent: s.spent + amount };
  book.tx(() => {
    book.writeBalances(next);
    book.journal(book.seq + 1, id, kind, amount, null, reason, now, next);
  });
  book.advance(next, 1);
  return {
    ok: true,
    op_id: id,
    kind,
    amount,
    available: kind === "credit" ? available + amount : available - amount,
    replayed: false,
  };
}
