import { ledger as accountLedger } from "../services/billing.ts";
import { eq } from "drizzle-orm";
import { db } from "../db/client.ts";
import { accounts, workflowRuns } from "../db/schema.ts";
import { config, signingSecret, type Env } from "../env.ts";
import { signWebhook } from "../services/crypto.ts";
import { runView } from "../services/workflows/views.ts";
import type { NodeRow, RunRow, RunSnapshot } from "./workflow-run-sql.ts";

interface Host {
  emit(type: string, node: string | null, data: Record<string, unknown>): void;
  snapshot(): Promise<RunSnapshot>;
}

const MAX_WEBHOOK_ATTEMPTS = 8;

/**
 * Tells the rest of the platform that a run ended, once: the ledger closes the run's group (settle for a completed or
 * cancelled run, void for a failed one), node charges are copied from the ledger so the run's charge is their sum to
 * the micro-USD, the final event and the webhook are recorded, and D1's projection is updated. Each step is
 * idempotent; `finalized` is set last, and until then the alarm calls this again.
 */
export async function finalizeRun(env: Env, storage: DurableObjectStorage, host: Host): Promise<void> {
  const sql = storage.sql;
  const run = sql.exec<RunRow>(`SELECT * FROM run WHERE id = 1`).one() as RunRow;
  if (run.finalized) return;
  const ledger = accountLedger(env, run.account_id);
  const mode = run.status === "FAILED" ? "void" : "settle";
  const o = await ledger.closeGroup(
    run.run_id,
    mode,
    run.status === "COMPLETED" ? "completed" : (run.error_kind ?? "failed"),
  );
  const captured = new Map(
    (o?.status === "settled" ? o.nodes : []).filter((n) => n.status === "captured").map((n) => [n.node, n.charge]),
  );
  const charge = o?.charge ?? 0;
  const webhook = (JSON.parse(run.spec) as { webhook_url: string | null }).webhook_url;
  storage.transactionSync(() => {
    const cur = sql.exec<{ charge: number | null }>(`SELECT charge FROM run WHERE id = 1`).one();
    if (cur.charge !== null) return;
    for (const n of sql.exec<Pick<NodeRow, "id">>(`SELECT id FROM nodes`).toArray()) {
      sql.exec(`UPDATE nodes SET charge = ? WHERE id = ?`, captured.get(n.id) ?? 0, n.id);
    }
    sql.exec(`UPDATE run SET charge = ?, held = 0 WHERE id = 1`, charge);
    host.emit(`run.${run.status.toLowerCase()}`, null, {
      status: run.status,
      cost: charge,
      ...(run.error_kind ? { error: { node: run.error_node, kind: run.error_kind, message: run.error_message } } : {}),
    });
    if (webhook)
      sql.exec(
        `INSERT OR IGNORE INTO webhooks (id, url, next_at) VALUES (?, ?, ?)`,
        `wh_${run.run_id}_${run.status.toLowerCase()}`,
        webhook,
        Date.now(),
      );
  });
  await db(env)
    .update(workflowRuns)
    .set({ status: run.status, completedAt: run.completed_at, charge })
    .where(eq(workflowRuns.id, run.run_id));
  sql.exec(`UPDATE run SET finalized = 1 WHERE id = 1`);
}

/** Signed (Standard Webhooks) deliveries of the run's final state, retried with backoff by the alarm. */
export async function deliverWebhooks(env: Env, sql: SqlStorage, host: Host): Promise<void> {
  const due = sql
    .exec<{ id: string; url: string; attempts: number }>(
      `SELECT id, url, attempts FROM webhooks WHERE done = 0 AND next_at <= ?`,
      Date.now(),
    )
    .toArray();
  if (due.length === 0) return;
  const snap = await host.snapshot();
  const acct = await db(env)
    .select({ secret: accounts.webhookSecret })
    .from(accounts)
    .where(eq(accounts.id, snap.run.account_id))
    .get();
  const data = await runView(snap, signingSecret(config(env)), Date.now());
  const body = JSON.stringify({ type: `run.${snap.run.status.toLowerCase()}`, data });
  for (const w of due) {
    let ok = false;
    try {
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(w.url, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/json",
          "webhook-id": w.id,
          "webhook-timestamp": String(ts),
          "webhook-signature": await signWebhook(acct?.secret ?? "", w.id, ts, body),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      ok = res.status >= 200 && res.status < 300;
    } catch {
      ok = false;
    }
    const attempts = w.attempts + 1;
    const done = ok ? 1 : attempts >= MAX_WEBHOOK_ATTEMPTS ? 2 : 0;
    sql.exec(
      `UPDATE webhooks SET attempts = ?, done = ?, next_at = ? WHERE id = ?`,
      attempts,
      done,
      Date.now() + Math.min(3600_000, 5000 * 2 ** attempts),
      w.id,
    );
  }
}
