import type { Plan } from "../../../schemas/index.ts";
import type { RaiseResult, RunningTick, TickResult } from "../../durable-objects/account-ledger-running.ts";
import type { AccountLedger } from "../../durable-objects/account-ledger.ts";
import type { Env } from "../../env.ts";
import { broker } from "../broker.ts";
import { providerLedger } from "../payments/ledger.ts";
import { Reservations, type Reserved } from "./reservations.ts";

/** What an endpoint's Durable Object needs from the rest of the platform: money, agents and its pool. */
export interface EndpointPorts {
  raiseHold(accountId: string, plan: Plan, holdId: string, target: number): Promise<RaiseResult>;
  tick(accountId: string, holdId: string, tick: RunningTick): Promise<TickResult | { ok: false; code: string }>;
  deliverSplits(accountId: string, splitIds: string[]): Promise<void>;
  reserve(endpointId: string, gpuClass: string, model: string, exclude: string[]): Promise<Reserved | null>;
  free(agentId: string, endpointId: string, epoch: number): Promise<void>;
  poolStats(endpointId: string): Promise<{ queued: number; running: Record<string, number> }>;
}

type LedgerApi = Pick<AccountLedger, "raiseRunning" | "tickRunning" | "splitsOf">;
const ledger = (env: Env, accountId: string) =>
  env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(accountId)) as unknown as LedgerApi;

export const endpointPool = (endpointId: string) => `ep:${endpointId}`;

export function endpointPorts(env: Env): EndpointPorts {
  const reservations = new Reservations(env);
  return {
    raiseHold: (accountId, plan, holdId, target) =>
      ledger(env, accountId).raiseRunning(accountId, plan, holdId, target),
    tick: (accountId, holdId, tick) => ledger(env, accountId).tickRunning(holdId, tick),
    async deliverSplits(accountId, splitIds) {
      // Idempotent by each split's op id: a redelivery after a failure records nothing twice.
      for (const id of splitIds) {
        for (const split of await ledger(env, accountId).splitsOf(id))
          await providerLedger(env, split.provider_id).recordEarning(accountId, split);
      }
    },
    reserve: (endpointId, gpuClass, model, exclude) =>
      reservations.claim(endpointId, gpuClass, model, exclude, Date.now()),
    free: async (agentId, endpointId, epoch) => void (await reservations.free(agentId, endpointId, epoch)),
    poolStats: (endpointId) => broker(env, endpointPool(endpointId)).poolStats(),
  };
}
