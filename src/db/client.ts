import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.ts";
import type { Env } from "../env.ts";

const make = (d1: D1Database) => drizzle(d1, { schema });
export type Db = ReturnType<typeof make>;

/**
 * One drizzle instance per D1 binding: building one walks the whole schema (about 0.2 ms of CPU), which the events
 * queue paid per message. The instance holds no per-request state; a wrapped binding (tests) gets its own.
 */
const instances = new WeakMap<D1Database, Db>();

export function db(env: Pick<Env, "DB">): Db {
  let d = instances.get(env.DB);
  if (!d) {
    d = make(env.DB);
    instances.set(env.DB, d);
  }
  return d;
}
