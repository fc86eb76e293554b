import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import type { ErrorEnvelope } from "../schemas/index.ts";
import { ApiError, invalidFields } from "./errors.ts";
import { config, type Config, type Env } from "./env.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { OpenApiRegistry, type Operation } from "./openapi.ts";
import type { AuthedAccount, AuthedAgent } from "./services/auth.ts";

export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string; cfg: Config; account: AuthedAccount; agent: AuthedAgent };
};
export type Ctx = Context<AppEnv>;
export type App = Hono<AppEnv>;

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
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text.length === 0 ? {} : JSON.parse(text);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError("invalid_input", "request body is not valid JSON");
  }
  return validate(schema, raw);
}

export function validate<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw invalidFields(
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message, code: i.code })),
    );
  }
  return parsed.data;
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

export interface Api {
  app: App;
  registry: OpenApiRegistry;
  op(def: Operation, ...handlers: MiddlewareHandler<AppEnv>[]): void;
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
    c.set("cfg", config(c.env));
    await next();
    c.header("x-request-id", id);
  });
  app.use("*", securityHeaders);

  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    console.error(
      JSON.stringify({
        level: "error",
        request_id: c.get("requestId"),
        message: String(err),
        stack: (err as Error).stack,
      }),
    );
    return errorResponse(c, new ApiError("internal", "internal error"));
  });
  app.notFound((c) => errorResponse(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`)));

  return {
    app,
    registry,
    op(def, ...handlers) {
      registry.add(def);
      const path = def.path.replace(/\{([^}]+)\}/g, ":$1");
      // Every route gets a body limit, checked before authentication reads anything.
      app.on(
        def.method.toUpperCase(),
        path,
        limit(def.maxBody ?? LIMITS.json),
        ...(handlers as [MiddlewareHandler<AppEnv>]),
      );
    },
  };
}
