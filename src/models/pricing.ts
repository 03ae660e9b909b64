import type { ModelRoleDefinition } from "../config/index.ts";

// A model's price per million tokens (and per image or video second), as the config writes it; the catalog and the
// live model list both speak it.
export type Pricing = ModelRoleDefinition["pricing"];
