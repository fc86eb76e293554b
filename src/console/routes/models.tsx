/** @jsxImportSource hono/jsx */
import { ApiError } from "../../errors.ts";
import { quote } from "../../services/pricing.ts";
import { baseUrl } from "../../services/urls.ts";
import { isHtmx, type ConsoleApp } from "../app.ts";
import { CatalogPage, ModelPage, RunErrors } from "../pages/models.tsx";
import { LiveProgress, RequestCard } from "../pages/request.tsx";
import { ErrorPage } from "../pages/simple.tsx";
import { coerce } from "../schema-form.tsx";
import { actor } from "./pages.tsx";

export function registerModels(app: ConsoleApp) {
  app.get("/models", async (c) => {
    const all = await c.var.services.catalog.list();
    const q = (c.req.query("q") ?? "").trim().toLowerCase().slice(0, 100);
    const category = c.req.query("category") ?? "";
    const models = all.filter(
      (m) =>
        (!category || m.category === category) &&
        (!q || `${m.name} ${m.slug} ${m.description}`.toLowerCase().includes(q)),
    );
    const categories = [...new Set(all.map((m) => m.category))].sort();
    return c.html(
      <CatalogPage session={c.get("session")} models={models} categories={categories} q={q} category={category} />,
    );
  });

  app.get("/models/:slug", async (c) => {
    const model = await c.var.services.catalog.get(c.req.param("slug"));
    if (!model)
      return c.html(
        <ErrorPage
          status={404}
          title="No such model"
          message="This model is not in the catalog."
          session={c.get("session")}
        />,
        404,
      );
    const speed = await c.var.services.console.usage.medianGpuMs(model.view.slug);
    const maxHold = quote(model.definition, {}).hold;
    return c.html(
      <ModelPage
        session={c.get("session")}
        model={model.view}
        maxHold={maxHold}
        speed={speed}
        base={baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url)}
      />,
    );
  });

  /** The playground's Run: the submit path of POST /v2/{model}; htmx gets the live card, a plain form a redirect. */
  app.post("/models/:slug/run", async (c) => {
    const model = await c.var.services.catalog.get(c.req.param("slug"));
    if (!model) return c.text("no such model", 404);
    const form = await c.req.parseBody({ all: true });
    const { input, errors } = await coerce(model.view.input_schema, form);
    const fail = (message: string, fields: { path: string; message: string }[], status: 400 | 402 | 403 | 422 | 429) =>
      // htmx swaps only 2xx by default, so the form's error box gets a 200 there.
      c.html(<RunErrors message={message} fields={fields} />, isHtmx(c) ? 200 : status);
    if (errors.length) return fail("The input is not valid.", errors, 400);
    const svc = c.var.services.requests;
    const base = baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
    try {
      const { id, job } = await svc.submit(actor(c), model, input, { mode: "async", base });
      if (!isHtmx(c)) return c.redirect(`/console/requests/${id}`, 303);
      return c.html(
        <>
          <LiveProgress id={id} />
          <RequestCard r={await svc.resultView(job, base)} live />
        </>,
      );
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const fields = (e.details as { fields?: { path: string; message: string }[] } | undefined)?.fields ?? [];
      const status = ([400, 402, 403, 422, 429] as const).find((s) => s === e.status) ?? 422;
      return fail(`${e.code}: ${e.message}`, fields, status);
    }
  });
}
