import type { AccountLedger } from "../../durable-objects/account-ledger.ts";
import type { Env } from "../../env.ts";

type MoneyApi = Pick<
  AccountLedger,
  | "setCustomer"
  | "billingState"
  | "configureAutoRecharge"
  | "autoRechargeCheck"
  | "autoRechargeFailed"
  | "stripeEffect"
  | "splitsOf"
  | "platformPays"
  | "recordEarning"
  | "payout"
  | "earningsReport"
  | "statement"
>;

/** An account's ledger, for its payments. */
export function moneyLedger(env: Env, accountId: string): MoneyApi {
  return env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(accountId)) as unknown as MoneyApi;
}

/** A provider's earnings live in the AccountLedger named `provider:{id}` (no API key maps to that name). */
export function providerLedger(env: Env, providerId: string): MoneyApi {
  return moneyLedger(env, `provider:${providerId}`);
}
