import { applyD1Migrations, type D1Migration } from "cloudflare:test";
import { env } from "cloudflare:workers";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      SIM_SEED: string;
      MIGRATION_LAB: DurableObjectNamespace<import("./support/migration-lab.ts").MigrationLab>;
      TEST_LEDGER: DurableObjectNamespace<import("./support/test-ledger.ts").TestLedger>;
    }
    interface GlobalProps {
      mainModule: typeof import("./entry.ts");
    }
  }
}

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
