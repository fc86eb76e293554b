import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

/**
 * One per account: credit holds, settlement and limits. The binding and SQLite class exist from the first migration
 * so that adding the ledger (issue #3) needs no Durable Object migration; until then the request path admits through
 * `services/billing.ts`, the single seam where the ledger's reserve/settle/void calls go.
 */
export class AccountLedger extends DurableObject<Env> {}
