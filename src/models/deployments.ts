import type { ModelRoleDefinition } from "../config/index.ts";
import { OrchestratorError } from "../core/errors.ts";
import type { Pricing } from "./pricing.ts";

// A role's model on one provider, as the runner tries it. Figures left out are the role's.
export interface Deployment {
  readonly provider: string;
  readonly model: string;
  readonly weight: number;
  readonly pricing?: Pricing | undefined;
  readonly contextWindow?: number | undefined;
  readonly maxOutputTokens?: number | undefined;
}

// The role's deployments: the configured list, or for a role written as `model` (+ `fallbacks`) on
// `provider`, that model alone. Either way the runner sees one list.
export function deploymentsOf(definition: ModelRoleDefinition): readonly Deployment[] {
  return definition.deployments ?? [{ provider: definition.provider, model: definition.model, weight: 1 }];
}

// The deployments in the order one call tries them: drawn by weight without replacement, so the first is
// each deployment's weight share of the time, and the others follow as failover in the same way.
// `random` returns [0, 1).
export function weightedOrder<T extends { readonly weight: number }>(
  items: readonly T[],
  random: () => number,
): T[] {
  if (items.length <= 1) return [...items];
  const left = [...items];
  const order: T[] = [];
  while (left.length > 0) {
    const total = left.reduce((sum, item) => sum + item.weight, 0);
    let point = random() * total;
    let index = left.findIndex((item) => {
      point -= item.weight;
      return point < 0;
    });
    // Rounding can leave the point at the very end: it falls to the last one.
    if (index < 0) index = left.length - 1;
    order.push(...left.splice(index, 1));
  }
  return order;
}

// Every chat role's deployment must name a provider the registry knows: a typo is a startup error,
// not a failure on the first call that draws it.
export function checkDeploymentProviders(
  roles: ReadonlyArray<readonly [string, ModelRoleDefinition]>,
  known: readonly string[],
): void {
  const problems: string[] = [];
  for (const [role, definition] of roles) {
    if (definition.kind !== "chat") continue;
    for (const deployment of deploymentsOf(definition)) {
      if (!known.includes(deployment.provider)) {
        problems.push(
          `models.${role}: provider '${deployment.provider}' (for ${deployment.model}) is not configured`,
        );
      }
    }
  }
  if (problems.length === 0) return;
  throw new OrchestratorError({
    kind: "fatal",
    code: "invalid_config",
    message: `${problems.join("; ")}; configured providers: ${known.join(", ")}`,
  });
}
