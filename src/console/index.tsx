/** @jsxImportSource hono/jsx */
import { Hono, type MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { LIMITS, limit, type App } from "../app.ts";
import { ApiError, logUnexpected } from "../errors.ts";
import { requireCsrfToken, requireSession, securityHeaders, sessionCookie, type ConsoleEnv } from "./app.ts";
import { ASSETS } from "./assets/generated.ts";
import { ErrorPage } from "./pages/simple.tsx";
import { COMING_IDS } from "./pages/simple.tsx";
import { registerAuth } from "./routes/auth.tsx";
import { registerBilling } from "./routes/billing.tsx";
import { registerWebhooks } from "./routes/webhooks.tsx";
import { registerEndpoints } from "./routes/endpoints.tsx";
import { registerProvider } from "./routes/provider.tsx";
import { registerWorkflows } from "./routes/workflows.tsx";
import { registerModels } from "./routes/models.tsx";
import { registerPages } from "./routes/pages.tsx";

const BY_PATH = new Map(Object.values(ASSETS).map((a) => [a.path, a]));
const PROTECTED = [
  "/usage",
  "/requests/*",
  "/keys",
  "/keys/*",
  "/models",
  "/models/*",
  "/billing",
  "/billing/*",
  "/webhooks",
  "/webhooks/*",
  "/provider",
  "/provider/*",
  "/workflows",
  "/workflows/*",
  "/workflow-runs/*",
  "/endpoints",
  "/endpoints/*",
  ...COMING_IDS.map((id) => `/${id}`),
];

/** The web console, server-rendered by the same Worker under /console ; pages, sign-in and assets. */
export function consoleApp(): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();
  app.use("*", securityHeaders);
  // Bodies are bounded before anything reads them: a playground run may upload an image, every other form is small.
  const runLimit = limit(LIMITS.inference) as unknown as MiddlewareHandler<ConsoleEnv>;
  const formLimit = limit(LIMITS.json) as unknown as MiddlewareHandler<ConsoleEnv>;
  app.use("*", (c, next) =>
    c.req.method === "POST" ? (/\/run$/.test(c.req.path) ? runLimit : formLimit)(c, next) : next(),
  );
  // Origin / Sec-Fetch-Site check on every form post; the per-session token is checked on top (requireCsrfToken).
  app.use("*", csrf());

  app.get("/assets/:file", (c) => {
    const a = BY_PATH.get(c.req.param("file"));
    if (!a) return c.text("not found", 404);
    // Names carry a hash of the content, so a file never changes under its name.
    return c.body(a.body, 200, {
      "content-type": `${a.type}; charset=utf-8`,
      "cache-control": "public, max-age=31536000, immutable",
    });
  });
  app.get("/", (c) => c.redirect("/console/usage", 303));

  registerAuth(app);
  for (const p of PROTECTED) app.use(p, requireSession, requireCsrfToken);
  registerPages(app);
  registerModels(app);
  registerBilling(app);
  registerWebhooks(app);
  registerProvider(app);
  registerWorkflows(app);
  registerEndpoints(app);

  app.all("*", async (c) => {
    const session = await c.var.services.console.sessions.read(sessionCookie(c));
    return c.html(
      <ErrorPage status={404} title="Page not found" message={`Nothing at ${c.req.path}.`} session={session} />,
      404,
    );
  });

  app.onError(async (err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    if (err instanceof ApiError && err.status < 500) {
      return c.html(
        <ErrorPage
          status={err.status}
          title={err.code === "not_found" ? "Not found" : "Request refused"}
          message={err.message}
        />,
        err.status as 404,
      );
    }
    logUnexpected(c.get("requestId"), err);
    return c.html(
      <ErrorPage
        status={500}
        title="Something went wrong"
        message={`Internal error (request ${c.get("requestId")}).`}
      />,
      500,
    );
  });
  return app;
}

export function mountConsole(app: App) {
  app.route("/console", consoleApp() as unknown as App);
}
