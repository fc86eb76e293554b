import type { Api } from "../../app.ts";
import { registerListDeliveries, registerRedeliver } from "./deliveries.ts";
import { registerGetSecret, registerRotateSecret } from "./secret.ts";

export function registerWebhooks(api: Api) {
  registerListDeliveries(api);
  registerRedeliver(api);
  registerGetSecret(api);
  registerRotateSecret(api);
}
