import type { Env } from "../../../src/env.ts";

/** Thrown by a binding the fault plan has cut off. */
export class InjectedFault extends Error {}

export type FaultMode =
  /** the process dies just before the call: it never happens, and nothing after it does either */
  | "crash-before"
  /** the process dies just after the call took effect, before its answer is used */
  | "crash-after"
  /** the call fails once (an error the code can catch); everything after it works */
  | "throw";

/**
 * A test-only seam: an Env whose bindings (D1, both Durable Object namespaces, R2) count every awaited call and fail
 * the one the plan names. Production code is handed this Env instead of the real one; nothing in it knows.
 */
export class FaultPlan {
  calls: string[] = [];
  private dead = false;
  constructor(
    private at = -1,
    private mode: FaultMode = "throw",
  ) {}

  async step<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const i = this.calls.length;
    this.calls.push(label);
    if (this.dead) throw new InjectedFault(`process is down (${label})`);
    if (i === this.at && this.mode !== "crash-after") {
      if (this.mode === "crash-before") this.dead = true;
      throw new InjectedFault(`fault before ${label}`);
    }
    const r = await fn();
    if (i === this.at && this.mode === "crash-after") {
      this.dead = true;
      throw new InjectedFault(`crash after ${label}`);
    }
    return r;
  }

  wrap(env: Env): Env {
    const plan = this;
    const stmt = (s: D1PreparedStatement, sql: string): D1PreparedStatement =>
      new Proxy(s, {
        get(target, prop) {
          const v = Reflect.get(target, prop, target);
          if (typeof v !== "function") return v;
          if (prop === "bind") return (...args: unknown[]) => stmt(v.apply(target, args), sql);
          return (...args: unknown[]) =>
            plan.step(`d1:${sql.split(/\s+/).slice(0, 3).join(" ")}`, () => v.apply(target, args));
        },
      });
    const DB = new Proxy(env.DB, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (prop === "prepare") return (sql: string) => stmt(v.call(target, sql), sql);
        if (prop === "batch") return (s: D1PreparedStatement[]) => plan.step("d1:batch", () => v.call(target, s));
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const namespace = <N extends object>(ns: N, name: string): N =>
      new Proxy(ns, {
        get(target, prop) {
          const v = Reflect.get(target, prop, target) as (...a: unknown[]) => unknown;
          if (prop !== "get") return typeof v === "function" ? v.bind(target) : v;
          return (id: DurableObjectId) => {
            const stub = v.call(target, id) as Record<string, unknown>;
            return new Proxy(stub, {
              get(s, method) {
                const m = Reflect.get(s, method, s);
                if (typeof m !== "function" || typeof method !== "string") return m;
                return (...args: unknown[]) =>
                  plan.step(`${name}.${method}`, () => Reflect.apply(m, s, args) as Promise<unknown>);
              },
            });
          };
        },
      });
    const BLOBS = new Proxy(env.BLOBS, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function" || typeof prop !== "string") return v;
        return (...args: unknown[]) => plan.step(`r2.${prop}`, () => v.apply(target, args));
      },
    });
    return {
      ...env,
      DB,
      BLOBS,
      ACCOUNT_LEDGER: namespace(env.ACCOUNT_LEDGER as never, "ledger") as Env["ACCOUNT_LEDGER"],
      JOB_BROKER: namespace(env.JOB_BROKER as never, "broker") as Env["JOB_BROKER"],
    };
  }
}
