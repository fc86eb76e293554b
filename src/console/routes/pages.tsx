/** @jsxImportSource hono/jsx */
import { accountView } from "../../services/billing.ts";
import { baseUrl } from "../../services/urls.ts";
import type { AuthedAccount } from "../../services/auth-types.ts";
import type { CCtx, ConsoleApp } from "../app.ts";
import { KeysPage } from "../pages/keys.tsx";
import { RequestCard, RequestPage } from "../pages/request.tsx";
import { ComingPage, COMING_IDS } from "../pages/simple.tsx";
import { UsagePage } from "../pages/usage.tsx";
import type { Filters } from "../services/usage.ts";

/** The signed-in account as the API's services expect it (the console acts without an API key). */
export function actor(c: CCtx): AuthedAccount {
  const s = c.get("session");
  return { id: s.accountId, plan: s.plan, keyId: "console" };
}

const base = (c: CCtx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const param = (v: string | undefined, re: RegExp) => (v && re.test(v) ? v : undefined);

export function registerPages(app: ConsoleApp) {
  app.get("/usage", async (c) => {
    const s = c.get("session");
    const filters: Filters = {
      model: param(c.req.query("model"), /^[A-Za-z0-9._-]{1,100}$/),
      status: param(c.req.query("status"), /^(QUEUED|PROCESSING|COMPLETED|FAILED|CANCELLED)$/),
      cursor: param(c.req.query("cursor"), /^[A-Za-z0-9_=-]{1,300}$/),
    };
    const usage = c.var.services.console.usage;
    const [summary, daily, page, models] = await Promise.all([
      c.var.services.billing.summary(s.accountId, s.plan),
      usage.daily(s.accountId, 30),
      usage.page(s.accountId, filters),
      usage.models(s.accountId),
    ]);
    return c.html(
      <UsagePage
        session={s}
        account={accountView(summary)}
        daily={daily}
        page={page}
        filters={filters}
        models={models}
      />,
    );
  });

  app.get("/requests/:id", async (c) => {
    const svc = c.var.services.requests;
    const id = c.req.param("id");
    const { pool, job: held } = await svc.owned(actor(c), id);
    const job = held ?? (await svc.job(actor(c), id));
    // The D1 row follows the job through the events queue: a page opened right after the run shows the broker's job
    // with the row's own fields not known yet.
    const row = (await c.var.services.console.usage.row(c.get("session").accountId, id)) ?? {
      id,
      accountId: job.account_id,
      model: job.model,
      pool: "",
      mode: "—",
      status: job.status,
      idempotencyKey: null,
      bodyHash: null,
      webhookUrl: null,
      baseUrl: "",
      createdAt: job.created_at,
      completedAt: null,
      gpuMs: null,
      gpuClass: null,
      errorKind: null,
      cost: null,
      filesDeletedAt: null,
    };
    const inputs = await c.var.services.console.inputs.list(c.get("session").accountId, id, pool);
    return c.html(
      <RequestPage session={c.get("session")} r={await svc.resultView(job, base(c))} row={row} inputs={inputs} />,
    );
  });

  app.get("/requests/:id/card", async (c) => {
    const svc = c.var.services.requests;
    const job = await svc.job(actor(c), c.req.param("id"));
    const r = await svc.resultView(job, base(c));
    return c.html(<RequestCard r={r} detail={c.req.query("detail") === "1"} live={c.req.query("live") === "1"} />);
  });

  // The event stream of GET /v2/requests/{id}/events for the signed-in account: EventSource sends the session
  // cookie (it cannot send an API key header), and the same service checks ownership before streaming.
  app.get("/requests/:id/events", async (c) => {
    const raw = c.req.header("last-event-id") ?? "0";
    const stream = await c.var.services.requestEvents.open(
      actor(c),
      c.req.param("id"),
      /^\d{1,9}$/.test(raw) ? Number(raw) : 0,
      base(c),
    );
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
    });
  });

  app.get("/requests/:id/inputs/:field", async (c) => {
    const id = c.req.param("id");
    const field = c.req.param("field");
    const { pool } = await c.var.services.requests.owned(actor(c), id);
    const obj = await c.var.services.console.inputs.get(c.get("session").accountId, id, field, pool);
    if (!obj) return c.text("not found", 404);
    return new Response(obj.body, {
      headers: { "content-type": obj.contentType, "cache-control": "private, max-age=3600" },
    });
  });

  app.get("/keys", async (c) => {
    const s = c.get("session");
    return c.html(<KeysPage session={s} keys={await c.var.services.console.keys.list(s.accountId)} />);
  });

  app.post("/keys", async (c) => {
    const s = c.get("session");
    const body = await c.req.parseBody();
    const name = typeof body.name === "string" && body.name.trim() ? body.name.trim().slice(0, 100) : null;
    const keys = c.var.services.console.keys;
    const created = await keys.create(s.accountId, name);
    // Rendered, not redirected: the key exists only in this response.
    return c.html(
      <KeysPage session={s} keys={await keys.list(s.accountId)} created={{ key: created.key, name }} />,
      201,
    );
  });

  app.post("/keys/:id/revoke", async (c) => {
    const s = c.get("session");
    const keys = c.var.services.console.keys;
    const ok = await keys.revoke(s.accountId, c.req.param("id"));
    const message = ok ? "Key revoked: requests with it now get 401." : "No such active key.";
    return c.html(<KeysPage session={s} keys={await keys.list(s.accountId)} message={message} />, ok ? 200 : 404);
  });

  for (const id of COMING_IDS) app.get(`/${id}`, (c) => c.html(<ComingPage id={id} session={c.get("session")} />));
}
