import type { Env } from "../env.ts";
import type { JobBroker } from "../durable-objects/job-broker.ts";

/**
 * The JobBroker of a pool, typed as the class's own method signatures. Workers' RPC type mapping turns `unknown`
 * payload fields (model inputs, JSON outputs) into `never`; the values are plain JSON, which RPC carries unchanged.
 */
export type BrokerApi = Pick<
  JobBroker,
  | "enqueue"
  | "get"
  | "inlineInputs"
  | "waitFor"
  | "cancel"
  | "lease"
  | "forget"
  | "heartbeat"
  | "checkLease"
  | "complete"
  | "fail"
  | "release"
  | "prune"
  | "reconcile"
  | "seenSince"
  | "poolStats"
  | "cancelQueued"
>;

/** The pool every catalog model and private model runs in, and the one agents lease from. */
export const DEFAULT_POOL = "public";

export function broker(env: Env, pool: string): BrokerApi {
  return env.JOB_BROKER.get(env.JOB_BROKER.idFromName(`pool:${pool}`)) as unknown as BrokerApi;
}
