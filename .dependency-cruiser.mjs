// The layers of src/, top to bottom. A module may import its own layer and any layer below it, never one
// above; nothing imports an entry point; and no import cycle anywhere. Type-only imports count: a type that
// two layers share lives in the lower one.
export const layers = [
  {
    name: "entry points",
    folders: ["app.ts", "main.ts", "worker.ts", "process-lifecycle.ts", "logger.ts", "cli"],
  },
  { name: "api", folders: ["api"] },
  { name: "services", folders: ["chat", "workflows", "quality", "cluster"] },
  { name: "routing", folders: ["routing"] },
  { name: "models", folders: ["models"] },
  { name: "guard hooks", folders: ["budgets", "telemetry"] },
  { name: "resilience", folders: ["resilience"] },
  { name: "providers", folders: ["providers"] },
  { name: "foundations", folders: ["store", "config", "tokens"] },
  { name: "core", folders: ["core"] },
];

const pathOf = (folders) => `^src/(${folders.map((folder) => folder.replaceAll(".", "\\.")).join("|")})($|/)`;

const upwardImports = layers.slice(1).map((layer, index) => ({
  name: `no-upward-import-from-${layer.name.replaceAll(" ", "-")}`,
  comment: `${layer.name} may import only its own layer and the layers below it`,
  severity: "error",
  from: { path: pathOf(layer.folders) },
  to: { path: pathOf(layers.slice(0, index + 1).flatMap((above) => above.folders)) },
}));

export default {
  forbidden: [
    ...upwardImports,
    {
      name: "no-cycle",
      comment: "modules that import each other cannot be read, tested or moved one at a time",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      comment: "an import the checker cannot resolve would escape the rules above",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // swc reads the TypeScript source as written, so `import type` counts like any other import (what
    // tsPreCompilationDeps does for the tsc parser, which does not support TypeScript 7.0).
    parser: "swc",
    doNotFollow: { path: "node_modules" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types"],
    },
  },
};
