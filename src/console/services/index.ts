/**
 * The console's own services (sign-in, sessions, API keys, usage pages), reached as `c.var.services.console`: the
 * same per-request container the API's routes use, so console routes touch no binding either. Each is made on first
 * use. Nothing here imports src/app.ts or src/context.ts (src/services/index.ts imports this file).
 */
import type { Config, Env } from "../../env.ts";
import { accountForEmail } from "./accounts.ts";
import { RequestInputs } from "./inputs.ts";
import { KeyService } from "./keys.ts";
import { MagicLinks } from "./magic.ts";
import { mailer } from "./mail.ts";
import { SessionService } from "./session.ts";
import { UsageService } from "./usage.ts";

export interface ConsoleServices {
  /** the account an email signs in to (a first sign-in creates it) */
  readonly accounts: { forEmail(email: string): Promise<string> };
  /** a request's stored input files */
  readonly inputs: RequestInputs;
  readonly keys: KeyService;
  /** email sign-in links, sent through the configured mailer */
  readonly magicLinks: MagicLinks;
  readonly sessions: SessionService;
  /** the D1 request projection: spend per day, request pages */
  readonly usage: UsageService;
}

export function createConsoleServices(env: Env, cfg: Config): ConsoleServices {
  const made = new Map<keyof ConsoleServices, unknown>();
  const once = <K extends keyof ConsoleServices>(name: K, make: () => ConsoleServices[K]): ConsoleServices[K] => {
    let s = made.get(name) as ConsoleServices[K] | undefined;
    if (s === undefined) made.set(name, (s = make()));
    return s;
  };
  return {
    get accounts() {
      return once("accounts", () => ({ forEmail: (email: string) => accountForEmail(env, email) }));
    },
    get inputs() {
      return once("inputs", () => new RequestInputs(env));
    },
    get keys() {
      return once("keys", () => new KeyService(env));
    },
    get magicLinks() {
      return once("magicLinks", () => new MagicLinks(env, mailer(cfg)));
    },
    get sessions() {
      return once("sessions", () => new SessionService(env));
    },
    get usage() {
      return once("usage", () => new UsageService(env));
    },
  };
}
