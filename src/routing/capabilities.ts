// What a request needs of the model that answers it, and what is known of a model: a model that lacks what
// the request needs is skipped for the next capable role instead of being sent a request it must refuse.

export interface RequestNeeds {
  readonly tools: boolean;
  // response_format json_schema: structured outputs.
  readonly jsonSchema: boolean;
  // response_format json_object: JSON mode.
  readonly jsonObject: boolean;
  readonly images: boolean;
}

export const noNeeds: RequestNeeds = { tools: false, jsonSchema: false, jsonObject: false, images: false };

// A role's models as the service knows them now. Lists that are unknown (no live catalog, a model it does not
// list) are undefined: an unknown capability is assumed present, since refusing on a guess would be worse.
export interface RoleFacts {
  readonly role: string;
  readonly model: string;
  readonly contextWindow: number;
  readonly maxOutputTokens: number;
  // OpenRouter's supported_parameters for the model ("tools", "response_format", "structured_outputs", …).
  readonly supportedParameters?: readonly string[] | undefined;
  // OpenRouter's architecture.input_modalities ("text", "image", …).
  readonly inputModalities?: readonly string[] | undefined;
  // Every model of the role (its own and its fallbacks) has an open circuit: a call could only fail.
  readonly allCircuitsOpen: boolean;
}

// Room kept beyond the context for the chat template's own tokens.
const templateTokens = 64;

export type Shortfall =
  | "circuit_open"
  | "no_tools"
  | "no_json_schema"
  | "no_json_mode"
  | "no_images"
  | "context";

// Why a role cannot serve the request, or undefined when it can (as far as anything is known).
export function shortfallOf(
  facts: RoleFacts,
  needs: RequestNeeds,
  contextTokens: number,
): Shortfall | undefined {
  if (facts.allCircuitsOpen) return "circuit_open";
  const params = facts.supportedParameters;
  const knows = params !== undefined && params.length > 0;
  if (needs.tools && knows && !params.includes("tools")) return "no_tools";
  if (
    needs.jsonSchema &&
    knows &&
    !params.includes("structured_outputs") &&
    !params.includes("response_format")
  )
    return "no_json_schema";
  if (needs.jsonObject && knows && !params.includes("response_format")) return "no_json_mode";
  const modalities = facts.inputModalities;
  if (needs.images && modalities !== undefined && modalities.length > 0 && !modalities.includes("image"))
    return "no_images";
  if (contextTokens + templateTokens > facts.contextWindow) return "context";
  return undefined;
}

export function describeShortfall(shortfall: Shortfall, facts: RoleFacts, contextTokens: number): string {
  switch (shortfall) {
    case "circuit_open":
      return `every model of ${facts.role} has an open circuit`;
    case "no_tools":
      return `${facts.model} does not support tools`;
    case "no_json_schema":
      return `${facts.model} does not support structured outputs`;
    case "no_json_mode":
      return `${facts.model} does not support JSON mode`;
    case "no_images":
      return `${facts.model} does not take images`;
    case "context":
      return `context of ${contextTokens} tokens does not fit ${facts.model}'s window of ${facts.contextWindow}`;
  }
}
