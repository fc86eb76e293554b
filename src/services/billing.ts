import type { Env } from "../env.ts";
import type { ModelDefinition } from "../../schemas/index.ts";

export interface Admission {
  /** micro-USD held for the request (0 until the ledger lands) */
  held: number;
}

/**
 * The seam for credits and limits on the request path. `admit` runs after validation and before the job is queued;
 * `resolve` runs when the broker reports the request finished (settle on COMPLETED, void otherwise). The ledger of
 * issue #3 replaces this implementation with AccountLedger DO calls; routes do not change.
 */
export interface Billing {
  admit(accountId: string, requestId: string, model: ModelDefinition, input: Record<string, unknown>): Promise<Admission>;
  resolve(accountId: string, requestId: string, outcome: { status: string; gpu_ms: number | null; gpu_class: string | null }): Promise<void>;
}

/** Admits every validated request and charges nothing: the behaviour before the ledger exists. */
export class OpenBilling implements Billing {
  async admit(): Promise<Admission> {
    return { held: 0 };
  }
  async resolve(): Promise<void> {}
}

export function billing(_env: Env): Billing {
  return new OpenBilling();
}
