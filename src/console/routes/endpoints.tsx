/** @jsxImportSource hono/jsx */
import { CreateEndpoint, PatchEndpoint } from "../../../schemas/index.ts";
import { ApiError } from "../../errors.ts";
import { baseUrl } from "../../services/urls.ts";
import type { CCtx, ConsoleApp } from "../app.ts";
import { EndpointPage, EndpointLive } from "../pages/endpoint.tsx";
import { EndpointsPage, type CreateForm, type Message } from "../pages/endpoints.tsx";
import { actor } from "./pages.tsx";

type Status = 200 | 400 | 402 | 404 | 409;
const base = (c: CCtx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const svc = (c: CCtx) => c.var.services.endpoints;

async function renderList(c: CCtx, form?: CreateForm, message?: Message, status: Status = 200) {
  const [endpoints, models] = await Promise.all([svc(c).list(actor(c), base(c)), c.var.services.catalog.list()]);
  return c.html(
    <EndpointsPage session={c.get("session")} endpoints={endpoints} models={models} form={form} message={message} />,
    status,
  );
}

async function renderOne(c: CCtx, message?: Message, status: Status = 200) {
  const e = await svc(c).get(actor(c), c.req.param("id") ?? "", base(c));
  return c.html(<EndpointPage session={c.get("session")} e={e} message={message} />, status);
}

/** A form's whole number, or the raw text so the schema reports it (an empty field means the default). */
const int = (v: string | undefined) =>
  v === undefined || v.trim() === "" ? undefined : /^\d+$/.test(v.trim()) ? Number(v) : v;
/** Dollars typed in the form as integer micro-USD (the API's unit); anything else goes to the schema as typed. */
function dollars(v: string | undefined): number | string | undefined {
  const t = v?.trim().replace(/^\$/, "");
  if (!t) return undefined;
  const m = /^(\d{1,6})(?:\.(\d{1,6}))?$/.exec(t);
  return m ? Number(m[1]) * 1_000_000 + Number((m[2] ?? "").padEnd(6, "0")) : t;
}

async function fields(c: CCtx): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string" && k !== "_csrf") out[k] = v;
  return out;
}

/** The service's refusals shown on the page they came from; anything else is a real failure. */
function refusal(e: unknown): { text: string; status: Status; fields: Record<string, string> } {
  if (!(e instanceof ApiError) || e.status >= 500) throw e;
  const list = (e.details as { fields?: { path: string; message: string }[] } | undefined)?.fields ?? [];
  return {
    text: e.message,
    status: e.status as Status,
    fields: Object.fromEntries(list.map((f) => [f.path, f.message])),
  };
}

export function registerEndpoints(app: ConsoleApp) {
  app.get("/endpoints", (c) => renderList(c));

  app.post("/endpoints", async (c) => {
    const values = await fields(c);
    const parsed = CreateEndpoint.safeParse({
      name: values.name?.trim(),
      model: values.model,
      gpu_class: values.gpu_class,
      min_instances: int(values.min_instances),
      max_instances: int(values.max_instances),
      idle_timeout_s: int(values.idle_timeout_s),
      max_hourly_spend: dollars(values.max_hourly_spend),
    });
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const i of parsed.error.issues) errors[String(i.path[0] ?? "name")] ??= i.message;
      return renderList(c, { values, errors }, { kind: "error", text: "Check the highlighted fields." }, 400);
    }
    try {
      const { view } = await svc(c).create(actor(c), parsed.data, base(c));
      return c.redirect(`/console/endpoints/${view.id}`, 303);
    } catch (e) {
      const r = refusal(e);
      return renderList(c, { values, errors: r.fields }, { kind: "error", text: r.text }, r.status);
    }
  });

  app.get("/endpoints/:id", (c) => renderOne(c));
  app.get("/endpoints/:id/live", async (c) => {
    const e = await svc(c).get(actor(c), c.req.param("id"), base(c));
    return c.html(<EndpointLive e={e} />);
  });

  app.post("/endpoints/:id/scale", async (c) => {
    const v = await fields(c);
    const parsed = PatchEndpoint.safeParse({
      min_instances: int(v.min_instances),
      max_instances: int(v.max_instances),
    });
    if (!parsed.success) {
      const text = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join("; ");
      return renderOne(c, { kind: "error", text }, 400);
    }
    try {
      await svc(c).patch(actor(c), c.req.param("id"), parsed.data, base(c));
      return renderOne(c, { kind: "ok", text: "Scaling saved." });
    } catch (e) {
      const r = refusal(e);
      if (r.status === 404) throw e;
      return renderOne(c, { kind: "error", text: r.text }, r.status);
    }
  });

  for (const op of ["pause", "resume", "delete"] as const) {
    app.post(`/endpoints/:id/${op}`, async (c) => {
      const id = c.req.param("id");
      try {
        const e = await svc(c).lifecycle(actor(c), id, op, base(c));
        if (op === "delete") return renderList(c, undefined, { kind: "ok", text: `Endpoint ${e.name} deleted.` });
        return renderOne(c, { kind: "ok", text: op === "pause" ? "Paused: instances released." : "Resumed." });
      } catch (e) {
        const r = refusal(e);
        if (r.status === 404) throw e;
        return renderOne(c, { kind: "error", text: r.text }, r.status);
      }
    });
  }
}
