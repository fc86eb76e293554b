/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { AliasName, CopyTemplate, WorkflowSlug } from "../../../schemas/index.ts";
import { ApiError } from "../../errors.ts";
import { baseUrl } from "../../services/urls.ts";
import { TEMPLATES, TEMPLATE_BY_ID, templateModels } from "../../services/workflows/templates.ts";
import { runUrls } from "../../services/workflows/views.ts";
import type { CCtx, ConsoleApp } from "../app.ts";
import { SchemaFields } from "../schema-form.tsx";
import { BuilderPage, WorkflowsPage, type PaletteModel } from "../pages/workflows.tsx";
import { actor } from "./pages.tsx";

const base = (c: CCtx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const store = (c: CCtx) => c.var.services.workflows;

/** The palette: each model with its input schema (ports and literal forms are made from it) and output type. */
async function palette(c: CCtx): Promise<PaletteModel[]> {
  return (await c.var.services.catalog.list()).map((m) => ({
    slug: m.slug,
    name: m.name,
    category: m.category,
    output_type: m.output_type,
    input_schema: m.input_schema as PaletteModel["input_schema"],
  }));
}

/** A first definition for a new workflow: one node of the chosen model fed by an image input, its output mapped. */
export function starter(model: PaletteModel): unknown {
  const schema = model.input_schema as PaletteModel["input_schema"] & { anyOf?: { required?: string[] }[] };
  const props = schema.properties ?? {};
  const image = Object.keys(props).find((k) => props[k]?.format === "image");
  const id =
    model.slug
      .replace(/[^a-z0-9_-]/g, "_")
      .replace(/^[^a-z]+/, "")
      .slice(0, 40) || "node";
  const input: Record<string, unknown> = image ? { [image]: { $ref: "inputs.image" } } : {};
  // Fields the schema requires with no default (also the first of an "one of these" choice) get a plain value,
  // so the first draft passes the checker; the builder shows them as literals to change.
  for (const k of [...(schema.required ?? []), ...(schema.anyOf?.[0]?.required ?? [])]) {
    const p = props[k];
    if (k in input || !p || p.default !== undefined) continue;
    const t = Array.isArray(p.type) ? p.type[0] : p.type;
    if (p.enum?.length) input[k] = p.enum[0];
    else if (t === "integer" || t === "number") input[k] = p.minimum !== undefined && p.minimum > 512 ? p.minimum : 512;
    else if (t === "string") input[k] = "text";
    else if (t === "boolean") input[k] = false;
  }
  return {
    inputs: image ? { image: { type: "image" } } : {},
    nodes: { [id]: { model: model.slug, input } },
    outputs: { result: { $ref: `nodes.${id}.${model.output_type === "json" ? "json" : "output"}` } },
  };
}

/** ApiErrors as JSON the builder shows (with the checker's per-node errors); anything else is the page's 500. */
async function json(c: CCtx, fn: () => Promise<{ status?: number; body: unknown; etag?: string }>) {
  try {
    const r = await fn();
    if (r.etag) c.header("etag", r.etag);
    return c.json(r.body as object, (r.status ?? 200) as 200);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status >= 500) throw e;
    return c.json({ error: { code: e.code, message: e.message, details: e.details ?? null } }, e.status as 400);
  }
}

async function body(c: Context): Promise<Record<string, unknown>> {
  if (!(c.req.header("content-type") ?? "").startsWith("application/json"))
    throw new ApiError("unsupported_media_type", "send application/json");
  const raw: unknown = await c.req.json().catch(() => null);
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new ApiError("invalid_input", "a JSON object");
  return raw as Record<string, unknown>;
}

async function listPage(c: CCtx, error?: string, status: 200 | 400 | 409 = 200) {
  const rows = await store(c).list(actor(c));
  const views = await Promise.all(rows.map((r) => store(c).view(r, base(c))));
  const templates = TEMPLATES.map((t) => ({
    id: t.id,
    name: t.name,
    description: t.description,
    models: templateModels(t),
  }));
  const models = await palette(c);
  return c.html(
    <WorkflowsPage session={c.get("session")} workflows={views} templates={templates} models={models} error={error} />,
    status,
  );
}

export function registerWorkflows(app: ConsoleApp) {
  app.get("/workflows", async (c) => listPage(c, c.req.query("error")?.slice(0, 500)));

  // New workflow (form post): a valid first definition, since drafts are checked when saved.
  app.post("/workflows", async (c) => {
    const f = await c.req.parseBody();
    const slug = WorkflowSlug.safeParse(String(f.slug ?? "").trim());
    const models = await palette(c);
    const model = models.find((m) => m.slug === f.model);
    const fail = (message: string, status: 400 | 409) => listPage(c, message, status);
    if (!slug.success) return fail(`Slug: ${slug.error.issues[0]!.message}`, 400);
    if (!model) return fail("Choose the first model.", 400);
    const name =
      String(f.name ?? "")
        .trim()
        .slice(0, 200) || slug.data;
    try {
      await store(c).create(actor(c), { slug: slug.data, name, definition: starter(model) });
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) {
        const errs = (e.details as { errors?: { pointer: string; message: string }[] } | undefined)?.errors ?? [];
        const why = errs.map((x) => `${x.pointer}: ${x.message}`).join("; ");
        return fail(why ? `${e.message}: ${why}` : e.message, e.status === 409 ? 409 : 400);
      }
      throw e;
    }
    return c.redirect(`/console/workflows/${slug.data}`, 303);
  });

  // Templates open in the builder: copied into the account as a new draft first.
  app.post("/workflows/templates/:id/copy", async (c) => {
    const t = TEMPLATE_BY_ID.get(c.req.param("id"));
    if (!t) return c.text("no such template", 404);
    const f = await c.req.parseBody();
    const p = CopyTemplate.safeParse({ slug: String(f.slug || t.id) });
    const slug = p.success && p.data.slug ? p.data.slug : t.id;
    try {
      await store(c).create(actor(c), { slug, name: t.name, description: t.description, definition: t.definition });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status >= 500) throw e;
      return c.redirect(`/console/workflows?error=${encodeURIComponent(e.message)}`, 303);
    }
    return c.redirect(`/console/workflows/${slug}`, 303);
  });

  app.get("/workflows/fields/:model", async (c) => {
    const m = (await palette(c)).find((x) => x.slug === c.req.param("model"));
    if (!m) return c.text("no such model", 404);
    return c.html(<SchemaFields schema={m.input_schema} />);
  });

  app.get("/workflows/:slug", async (c) => {
    const row = await store(c).row(actor(c), c.req.param("slug"));
    const view = await store(c).view(row, base(c));
    return c.html(<BuilderPage session={c.get("session")} workflow={view} models={await palette(c)} />);
  });

  // JSON calls of the builder (session + x-csrf-token header, application/json only).
  app.put("/workflows/:slug/draft", (c) =>
    json(c, async () => {
      const b = await body(c);
      const row = await store(c).updateDraft(actor(c), c.req.param("slug"), c.req.header("if-match"), {
        definition: b.definition,
      });
      return { body: await store(c).view(row, base(c)), etag: store(c).etag(row) };
    }),
  );

  app.post("/workflows/:slug/validate", (c) =>
    json(c, async () => {
      return { body: await store(c).validate(actor(c), c.req.param("slug")) };
    }),
  );

  app.post("/workflows/:slug/versions", (c) =>
    json(c, async () => {
      const v = await store(c).publish(actor(c), c.req.param("slug"));
      const row = await store(c).row(actor(c), c.req.param("slug"));
      return { status: 201, body: { version: v.version, workflow: await store(c).view(row, base(c)) } };
    }),
  );

  app.put("/workflows/:slug/aliases/:alias", (c) =>
    json(c, async () => {
      const alias = AliasName.safeParse(c.req.param("alias"));
      if (!alias.success) throw new ApiError("invalid_input", "alias must be production or staging");
      const version = (await body(c)).version;
      if (typeof version !== "number" || !Number.isInteger(version) || version < 1)
        throw new ApiError("invalid_input", "version: a published version number");
      await store(c).setAlias(actor(c), c.req.param("slug"), alias.data, version);
      return { body: await store(c).view(await store(c).row(actor(c), c.req.param("slug")), base(c)) };
    }),
  );

  app.post("/workflows/:slug/runs", (c) =>
    json(c, async () => {
      const svc = c.var.services.workflowRuns;
      const inputs = ((await body(c)).inputs ?? {}) as Record<string, unknown>;
      const r = await svc.submit(actor(c), c.req.param("slug"), inputs, { mode: "async", base: base(c) });
      return { status: 202, body: { run_id: r.id, ...runUrls(base(c), r.id) } };
    }),
  );

  app.get("/workflow-runs/:id", (c) =>
    json(c, async () => {
      const svc = c.var.services.workflowRuns;
      const run = await svc.owned(actor(c), c.req.param("id"));
      return { body: await svc.view(await run.snapshot()) };
    }),
  );
}
