import type { AccountLedger, LedgerOp, LedgerOpResult } from "../durable-objects/account-ledger.ts";
import type { Env } from "../env.ts";

/**
 * Automatic batching of the request path's ledger operations, the way TigerBeetle's clients batch concurrent
 * `create_transfers` calls: operations for one account that arrive while a call to its AccountLedger is in flight
 * wait, then go together as one `apply` call, which the object commits as one SQLite transaction. A lone operation
 * goes at once, so an idle account pays no added latency; a busy one pays one object call and one commit per batch
 * instead of per operation. Outcomes do not change: the object decides each operation in order, exactly as a single
 * call would, and answers only after the commit is durable.
 *
 * Workers constraints shape it. An I/O object (the stub, the call in flight) belongs to the request that made it, so
 * every batch is sent by a request whose own operation is in it, from its own context, and that request stays until
 * the batch answers. When a batch answers, its sender resolves the other requests' promises (their continuations run
 * in their own contexts) and wakes every waiting request; the first that runs sends the next batch. A sender whose
 * request was cancelled mid-call would never wake anyone, so a lane busy for longer than STALE_MS is taken over.
 */
const MAX_BATCH = 128;
const STALE_MS = 10_000;

type Outcome = { result: LedgerOpResult } | { error: unknown };

interface Waiter {
  op: LedgerOp;
  /** set by the request that sent this operation's batch; a wake-up only says "look again" */
  outcome?: Outcome;
  wake: () => void;
}

interface Lane {
  queue: Waiter[];
  busySince: number | null;
}

/** Per isolate, per account. */
const lanes = new Map<string, Lane>();

function stub(env: Env, accountId: string): Pick<AccountLedger, "apply"> {
  return env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(accountId)) as unknown as Pick<AccountLedger, "apply">;
}

const idle = (lane: Lane) => lane.busySince === null || Date.now() - lane.busySince > STALE_MS;

/** Submits one operation for the account's ledger and resolves with its result once its batch is committed. */
export async function submit(env: Env, accountId: string, op: LedgerOp): Promise<LedgerOpResult> {
  let lane = lanes.get(accountId);
  if (!lane) lanes.set(accountId, (lane = { queue: [], busySince: null }));
  const me: Waiter = { op, wake: () => {} };
  lane.queue.push(me);
  for (;;) {
    if (me.outcome) {
      if ("error" in me.outcome) throw me.outcome.error;
      return me.outcome.result;
    }
    if (idle(lane) && lane.queue.includes(me)) return send(env, accountId, lane, me);
    // The timer is this request's own pending event: without one, the runtime would see a request waiting only on
    // another request's promise and cancel it as hung. It also bounds the wait on a sender that never answers.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      me.wake = resolve;
      timer = setTimeout(resolve, STALE_MS + 1);
    });
    clearTimeout(timer);
  }
}

/** Sends the queue's head (with `me` in it) as one batch from the current request, then hands the lane on. */
async function send(env: Env, accountId: string, lane: Lane, me: Waiter): Promise<LedgerOpResult> {
  lane.busySince = Date.now();
  const mine = lane.queue.indexOf(me);
  const batch = lane.queue.splice(0, Math.max(MAX_BATCH, mine + 1));
  let outcome: { results: LedgerOpResult[] } | { error: unknown };
  try {
    const results = await stub(env, accountId).apply(batch.map((w) => w.op));
    outcome = { results };
  } catch (error) {
    outcome = { error };
  }
  lane.busySince = null;
  batch.forEach((w, i) => {
    w.outcome = "results" in outcome ? { result: outcome.results[i]! } : { error: outcome.error };
    if (w !== me) w.wake();
  });
  if (lane.queue.length === 0) lanes.delete(accountId);
  else for (const w of lane.queue) w.wake();
  if ("error" in outcome) throw outcome.error;
  return outcome.results[batch.indexOf(me)]!;
}
