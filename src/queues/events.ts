import { and, eq, ne } from "drizzle-orm";
import { EventMessage, type RequestAcceptedEvent, type RequestFinishedEvent } from "../../schemas/index.ts";
import { db } from "../db/client.ts";
import { requests } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { billing } from "../services/billing.ts";
import { DEFAULT_POOL } from "../services/broker.ts";
import { deleteRequestFiles } from "../services/retention.ts";
import { notifyWorkflowRun, workflowRunOf } from "../services/workflows/notify.ts";

/**
 * Terminal request events from the brokers' outboxes. At-least-once delivery: each step is idempotent by request id
 * (the projection update is a no-op when already applied; billing closes a request's hold once; webhooks are keyed by
 * event id).
 */
export async function handleEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const accepted: { msg: Message<unknown>; e: RequestAcceptedEvent }[] = [];
  const finished: { msg: Message<unknown>; e: RequestFinishedEvent }[] = [];
  for (const msg of batch.messages) {
    const parsed = EventMessage.safeParse(msg.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", message: "dropping malformed event", id: msg.id }));
      msg.ack();
    } else if (parsed.data.type === "request.accepted") accepted.push({ msg, e: parsed.data });
    else finished.push({ msg, e: parsed.data });
  }
  const retry = (msg: Message<unknown>, e: unknown) => {
    console.error(JSON.stringify({ level: "warn", message: "event failed; retrying", error: String(e) }));
    msg.retry({ delaySeconds: Math.min(60, 2 ** msg.attempts) });
  };
  // The batch's accepted rows go first, in one D1 call (one call per submission was most of this queue's work), so
  // a finished event in the same batch finds its row. If that call fails, each row is tried alone, so one bad event
  // does not hold back the others.
  if (accepted.length) {
    try {
      await onAccepted(accepted, env);
      for (const a of accepted) a.msg.ack();
    } catch {
      for (const a of accepted) {
        try {
          await onAccepted([a], env);
          a.msg.ack();
        } catch (e) {
          retry(a.msg, e);
        }
      }
    }
  }
  for (const { msg, e } of finished) {
    try {
      await onFinished(e, env, msg.attempts);
      msg.ack();
    } catch (err) {
      retry(msg, err);
    }
  }
}

/** The projection of requests accepted without a D1 write; a redelivery (or a row already there) changes nothing. */
async function onAccepted(events: { e: RequestAcceptedEvent }[], env: Env): Promise<void> {
  const d = db(env);
  const inserts = events.map(({ e }) =>
    d
      .insert(requests)
      .values({
        id: e.request_id,
        accountId: e.account_id,
        model: e.model,
        pool: e.pool,
        mode: e.mode,
        status: "QUEUED",
        webhookUrl: e.webhook_url,
        baseUrl: e.base_url,
        createdAt: e.created_at,
      })
      .onConflictDoNothing(),
  );
  await d.batch(inserts as unknown as [(typeof inserts)[number]]);
}

/** Retries of a finished event that waits for its request's accepted event before it is projected without one. */
const MAX_WAIT_FOR_ROW = 4;

async function onFinished(e: RequestFinishedEvent, env: Env, attempts = 1): Promise<void> {
  if (workflowRunOf(e.request_id)) return notifyWorkflowRun(env, e.request_id);
  const outcome = await billing(env).closeHold(e.account_id, e.request_id, {
    status: e.status,
    gpu_ms: e.gpu_ms,
    gpu_class: e.gpu_class,
    reason: e.error_kind,
    agent_id: e.agent_id ?? null,
    model: e.model,
  });
  const row = await db(env)
    .update(requests)
    .set({
      status: e.status,
      completedAt: e.completed_at,
      gpuMs: e.gpu_ms,
      gpuClass: e.gpu_class,
      errorKind: e.error_kind,
      cost: outcome?.charge ?? null,
    })
    .where(and(eq(requests.id, e.request_id), ne(requests.status, e.status)))
    .returning({ webhookUrl: requests.webhookUrl })
    .get();
  if (!row) {
    const exists = await db(env).select({ id: requests.id }).from(requests).where(eq(requests.id, e.request_id)).get();
    // The accepted event (same outbox, same batch or an earlier one) may not have been projected yet: the row must
    // exist before this moves it, or its webhook would never go out. Billing above is idempotent, so a retry is safe.
    if (!exists && attempts < MAX_WAIT_FOR_ROW) throw new Error(`request ${e.request_id} not projected yet`);
    // Still none after the retries (an accepted event lost with a local queue on a crash): the usage history gets
    // the row from what the finished event knows; only its webhook and base URL are not known here.
    if (!exists) {
      await db(env)
        .insert(requests)
        .values({
          id: e.request_id,
          accountId: e.account_id,
          model: e.model,
          pool: DEFAULT_POOL,
          mode: "async",
          status: e.status,
          baseUrl: "",
          createdAt: e.started_at ?? e.completed_at,
          completedAt: e.completed_at,
          gpuMs: e.gpu_ms,
          gpuClass: e.gpu_class,
          errorKind: e.error_kind,
          cost: outcome?.charge ?? null,
        })
        .onConflictDoNothing();
    }
  }
  // The job has ended: nothing reads its inputs again (a retried attempt runs before the end, not after).
  await deleteRequestFiles(env, e.account_id, e.request_id, "inputs");
  // Only the delivery that moved the row fans out the webhook; a redelivered event finds the row already moved.
  if (row?.webhookUrl)
    await env.WEBHOOKS.send({
      webhook_id: `wh_${e.event_id}`,
      request_id: e.request_id,
      account_id: e.account_id,
      url: row.webhookUrl,
    });
}
