/** @jsxImportSource hono/jsx */
import { DeliveryQuery, RotateSecret } from "../../../schemas/index.ts";
import { ApiError } from "../../errors.ts";
import type { CCtx, ConsoleApp } from "../app.ts";
import { WebhooksPage, type WebhookFilters } from "../pages/webhooks.tsx";

type Message = { kind: "ok" | "error"; text: string };

function filtersOf(c: CCtx): WebhookFilters {
  const q = DeliveryQuery.safeParse({
    status: c.req.query("status") || undefined,
    request_id: c.req.query("request_id")?.trim() || undefined,
    cursor: c.req.query("cursor") || undefined,
  });
  return q.success ? { status: q.data.status, request_id: q.data.request_id, cursor: q.data.cursor } : {};
}

async function render(c: CCtx, message?: Message, status: 200 | 202 | 400 | 404 | 409 = 200, rotated = false) {
  const s = c.get("session");
  const filters = filtersOf(c);
  const [page, secret] = await Promise.all([
    c.var.services.webhookDeliveries.list(s.accountId, { ...filters, limit: 20 } as DeliveryQuery),
    c.var.services.webhookSecrets.view(s.accountId),
  ]);
  return c.html(
    <WebhooksPage session={s} page={page} filters={filters} secret={secret} message={message} rotated={rotated} />,
    status,
  );
}

export function registerWebhooks(app: ConsoleApp) {
  app.get("/webhooks", (c) => render(c));

  app.post("/webhooks/deliveries/:id/redeliver", async (c) => {
    try {
      const r = await c.var.services.webhookDeliveries.redeliver(c.get("session").accountId, c.req.param("id"));
      return render(c, { kind: "ok", text: `Delivery ${r.id} queued again (same webhook-id ${r.webhook_id}).` }, 202);
    } catch (e) {
      if (e instanceof ApiError && e.status < 500)
        return render(c, { kind: "error", text: e.message }, e.status as 409);
      throw e;
    }
  });

  app.post("/webhooks/secret/rotate", async (c) => {
    const hours = String((await c.req.parseBody()).overlap_hours ?? "24").trim();
    const parsed = RotateSecret.safeParse({ overlap_seconds: /^\d{1,4}$/.test(hours) ? Number(hours) * 3600 : -1 });
    if (!parsed.success) return render(c, { kind: "error", text: "Overlap: a whole number of hours, 0 to 168." }, 400);
    await c.var.services.webhookSecrets.rotate(c.get("session").accountId, parsed.data.overlap_seconds);
    return render(c, { kind: "ok", text: "Secret rotated. Update your receivers with the new secret." }, 200, true);
  });
}
