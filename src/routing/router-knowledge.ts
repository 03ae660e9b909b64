import { deploymentsOf } from "../models/deployments.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { RoleFacts } from "./capabilities.ts";
import type { Category } from "./category.ts";
import type { QualityStandings } from "./quality-standing.ts";
import type { RouterKnowledge } from "./router.ts";

// What the router reads of the service, read fresh at each decision: each role's model as the catalog has it
// now (the live list's windows, parameters and input kinds), the circuits of its deployments and fallbacks, and judged quality.
export function routerKnowledge(models: ModelClient, quality?: QualityStandings): RouterKnowledge {
  const { breakers, modelKeys: keys } = models.resilience;
  return {
    facts(role): RoleFacts | undefined {
      const resolved = models.catalog.resolve(role);
      if (resolved?.definition.kind !== "chat") return undefined;
      const { definition } = resolved;
      const listed = models.catalog.capabilitiesOf(definition.model);
      const offline = models.mode === "offline";
      return {
        role: resolved.role,
        model: definition.model,
        contextWindow: definition.contextWindow,
        maxOutputTokens: definition.maxOutputTokens,
        supportedParameters: listed?.supportedParameters,
        inputModalities: listed?.inputModalities,
        // Unavailable only when every deployment and every fallback has its circuit open.
        allCircuitsOpen:
          !offline &&
          [
            ...deploymentsOf(definition),
            ...definition.fallbacks.map((model) => ({ provider: definition.provider, model })),
          ].every(({ provider, model }) => breakers.refusing(keys.keyOf(model, provider))),
      };
    },
    quality: (category: Category) => quality?.standing(category),
  };
}
