/**
 * The types every request handler shares: the Worker's bindings and what middleware puts on the context. Kept apart
 * from app.ts so that middleware and services can name them without importing the app (no import cycles).
 */
import type { Context, Hono } from "hono";
import type { Config, Env } from "./env.ts";
import type { AuthedAccount, AuthedAgent, AuthedProvider } from "./services/auth-types.ts";
import type { Services } from "./services/index.ts";

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    cfg: Config;
    /** the request's services, built on first use (src/services/index.ts); routes reach bindings only through them */
    services: Services;
    account: AuthedAccount;
    agent: AuthedAgent;
    provider: AuthedProvider;
  };
};
export type Ctx = Context<AppEnv>;
export type App = Hono<AppEnv>;
