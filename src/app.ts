import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import type { ErrorEnvelope } from "../schemas/index.ts";
import type { App, AppEnv, Ctx } from "./context.ts";
import { config } from "./env.ts";
import { ApiError, logUnexpected } from "./errors.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { OpenApiRegistry, type Operation } from "./openapi.ts";
import { requireAdmin, requireAgentToken, requireApiKey, requireProviderKey } from "./middleware/auth.ts";
import { createServices } from "./services/index.ts";
import { parseJson, validate } from "./validation.ts";

export type { App, AppEnv, Ctx };
export { validate } from "./validation.ts";

/** Body limits per route group; the platform's own limit for inference is far below Workers' 100 MB. */
export const LIMITS = { json: 64 * 1024, inference: 20 * 1024 * 1024, upload: 100 * 1024 * 1024 } as const;

export function limit(maxSize: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("payload_too_large", `request body exceeds ${maxSize} bytes`, { max_bytes: maxSize });
    },
  });
}

export function errorResponse(c: Ctx, err: ApiError): Response {
  const body: ErrorEnvelope = {
    error: {
      code: err.code,
      message: err.message,
      request_id: c.get("requestId") ?? "unknown",
      ...(err.details !== undefined ? { details: err.details } : {}),
    },
  };
  return c.json(body, err.status as 400, err.headers);
}

/** Reads and validates a JSON body; the failing fields come back in `details`. */
export async function jsonBody<S extends z.ZodType>(c: Ctx, schema: S): Promise<z.output<S>> {
  return validate(schema, parseJson(await c.req.text()));
}

/** Validates a response before it is sent, so the OpenAPI document never lies. */
export function reply<S extends z.ZodType>(
  c: Ctx,
  schema: S,
  data: z.input<S>,
  status: 200 | 201 | 202 = 200,
): Response {
  return c.json(schema.parse(data) as object, status);
}

/** `{id}` and `{name}` in "/v1/x/{id}/y/{name}" → "id" | "name". */
export type PathParams<P extends string> = P extends `${string}{${infer K}}${infer Rest}`
  ? K | PathParams<Rest>
  : never;

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a route's handler receives: its path parameters, query and JSON body, each already validated. */
export interface RouteInput<P extends string, Q, B> {
  params: { [K in PathParams<P>]: string };
  query: Out<Q>;
  body: Out<B>;
}

/**
 * One route, declared once: the same object gives the OpenAPI operation, the authentication the route enforces,
 * the validation of its path, query and body, and the handler's typed input.
 */
export interface Route<P extends string, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>
  extends Omit<Operation, "path" | "body" | "query"> {
  path: P;
  /** query parameters (an object schema of strings); rendered as OpenAPI parameters */
  query?: Q;
  /** a JSON body; read, parsed and validated before the handler (400 invalid_input naming the fields) */
  body?: B;
  /** middleware run after authentication and before the handler (dev-only gates, rate limits) */
  use?: MiddlewareHandler<AppEnv>[];
  handler(c: Ctx, input: RouteInput<P, Q, B>): Response | Promise<Response>;
}

const AUTH: Record<Operation["auth"], MiddlewareHandler<AppEnv> | null> = {
  api_key: requireApiKey,
  admin: requireAdmin,
  agent: requireAgentToken,
  provider: requireProviderKey,
  none: null,
};

export interface Api {
  app: App;
  registry: OpenApiRegistry;
  /** Declares a route: see `Route`. */
  route<P extends string, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
    def: Route<P, Q, B>,
  ): void;
}

export function createApi(): Api {
  const app = new Hono<AppEnv>();
  const registry = new OpenApiRegistry();

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id =
      incoming && /^[A-Za-z0-9._-]{8,100}$/.test(incoming)
        ? incoming
        : `req_${crypto.randomUUID().replaceAll("-", "")}`;
    c.set("requestId", id);
    const cfg = config(c.env);
    c.set("cfg", cfg);
    c.set("services", createServices(c.env, cfg, background(c)));
    await next();
    c.header("x-request-id", id);
  });
  app.use("*", securityHeaders);

  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    logUnexpected(c.get("requestId"), err);
    return errorResponse(c, new ApiError("internal", "internal error"));
  });
  app.notFound((c) => errorResponse(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

  const mount = (def: Operation, handlers: MiddlewareHandler<AppEnv>[]) => {
    registry.add(def);
    const path = def.path.replace(/\{([^}]+)\}/g, ":$1");
    // Every route gets a body limit, checked before authentication reads anything.
    app.on(def.method.toUpperCase(), path, limit(def.maxBody ?? LIMITS.json), ...(handlers as [MiddlewareHandler]));
  };

  return {
    app,
    registry,
    route(def) {
      const auth = AUTH[def.auth];
      const names = [...def.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      const handler: MiddlewareHandler<AppEnv> = async (c) => {
        const params: Record<string, string> = {};
        for (const n of names) {
          const v = c.req.param(n);
          if (!v) throw new ApiError("invalid_input", `path parameter ${n} is required`);
          params[n] = v;
        }
        const query = def.query ? validate(def.query, c.req.query()) : undefined;
        const body = def.body ? await jsonBody(c, def.body) : undefined;
        return def.handler(c, { params, query, body } as RouteInput<typeof def.path, never, never>);
      };
      mount(def as Operation, [...(auth ? [auth] : []), ...(def.use ?? []), handler]);
    },
  };
}

function background(c: Ctx): (p: Promise<unknown>) => void {
  return (p) => {
    const quiet = p.catch(() => undefined);
    try {
      c.executionCtx.waitUntil(quiet);
    } catch {
      // no execution context (some test harnesses): the promise still runs, just not awaited
    }
  };
}
