import type { Api } from "../../app.ts";
import { registerListModels } from "./list.ts";
import { registerGetModel } from "./get.ts";

/** The model catalog: the list and one model's page. One file per operation. */
export function registerModelRoutes(api: Api) {
  registerListModels(api);
  registerGetModel(api);
}
