import { requestToClassify } from "./categorizer-prompt.ts";
import type { Category } from "./category.ts";

// A rule-based stand-in for the categorizer model: used when its answer is unusable, and by the
// offline provider. It looks at simple features of the message, never at meaning.

const creationVerb =
  /\b(create|build|develop|design|write|produce|make|generate|plan|draft|launch|prepare)\b/i;
const deliverables =
  /\b(campaigns?|posts?|images?|photos?|videos?|emails?|reports?|articles?|blog|website|app|application|api|tests?|documentation|slides?|presentations?|strategy|plan|copy|logo|newsletter|scripts?|landing page|analysis|research)\b/gi;
const breadth =
  /\b(complete|comprehensive|end[- ]to[- ]end|full|entire|multi[- ]?step|including|as well as)\b/i;
const hardQuestion =
  /\b(prove|proof|derive|debug|algorithm|optimi[sz]e|complexity|calculate|solve|implement|refactor|step by step|analy[sz]e|compare|trade-?offs?|why does|how does .* work|function|regex|sql|theorem|equation)\b/i;

export function categorizeLocally(message: string): Category {
  const text = message.trim();
  const distinctDeliverables = new Set(
    [...text.matchAll(deliverables)].map((m) => m[0].toLowerCase().replace(/s$/, "")),
  );
  const creates = creationVerb.test(text);
  if (creates && (distinctDeliverables.size >= 3 || (breadth.test(text) && distinctDeliverables.size >= 2))) {
    return "H";
  }
  if (creates && text.length > 1500) return "H";
  if (/```/.test(text) || hardQuestion.test(text) || /[=∑∫√≤≥]/.test(text)) return "L";
  if (creates && distinctDeliverables.size >= 1) return "L";
  return "M";
}

// A stand-in categorizer model's answer to a categorizer prompt (the offline mode's): the local rule applied
// to the request the prompt fences.
export function answerCategorizerPrompt(prompt: string): Category {
  return categorizeLocally(requestToClassify(prompt) ?? prompt);
}
