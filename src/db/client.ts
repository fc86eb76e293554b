import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.ts";
import type { Env } from "../env.ts";

export const db = (env: Pick<Env, "DB">) => drizzle(env.DB, { schema });
export type Db = ReturnType<typeof db>;
