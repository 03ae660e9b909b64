export { builtInAddons } from "./defaults/addons.ts";
export { type AppConfig, configError, defaultConfigFile, loadConfig, parseConfig } from "./load-config.ts";
export type {
  AddonDefinition,
  ModelRoleDefinition,
  RouteTarget,
  RoutingConfig,
  TemplateDefinition,
} from "./schema.ts";
