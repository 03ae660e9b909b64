import type { TemplateDefinition } from "../schema.ts";

// The spec's three workflow templates. Independent parts run in parallel ("linear") stages;
// each later stage builds on the outputs of the earlier ones.
export const builtInTemplates: Readonly<Record<string, TemplateDefinition>> = {
  research_report: {
    description:
      "A research report: primary and secondary research, company analysis, future outlook, executive summary",
    variables: [
      { name: "topic", description: "what the report is about", required: true },
      { name: "audience", description: "who will read it", required: false, default: "business readers" },
    ],
    workflow: [
      {
        type: "linear",
        tasks: [
          {
            model: "research_ai",
            prompt:
              "Research {topic} for {audience}: the key facts and figures, recent developments, the main debates and open questions. Name your sources.",
            output_variable: "primary_research",
            config: { temperature: 0.4, addons: ["research", "fact_checking"] },
          },
          {
            model: "research_ai",
            prompt:
              "Survey what existing analyses, industry reports and academic work conclude about {topic}, where they agree and where they disagree.",
            output_variable: "secondary_research",
            config: { temperature: 0.4, addons: ["literature_review"] },
          },
          {
            model: "medium_ai",
            prompt:
              "Identify the three to five most important companies or organisations in {topic} and analyse each: offering, position, strengths, weaknesses, recent moves.",
            output_variable: "company_analysis",
            config: { addons: ["competitive_analysis"] },
          },
        ],
      },
      {
        type: "inline",
        tasks: [
          {
            model: "thinking_ai",
            prompt:
              "Based on this research, write the future outlook for {topic} over the next three to five years: trends, scenarios, risks and signals to watch.\n\nPrimary research:\n{primary_research}\n\nSecondary research:\n{secondary_research}\n\nCompany analysis:\n{company_analysis}",
            output_variable: "future_outlook",
          },
          {
            model: "thinking_ai",
            prompt:
              "Write a complete research report on {topic} for {audience}, with sections for background, findings, company analysis and future outlook.\n\nPrimary research:\n{primary_research}\n\nSecondary research:\n{secondary_research}\n\nCompany analysis:\n{company_analysis}\n\nFuture outlook:\n{future_outlook}",
            output_variable: "report",
            config: { addons: ["research"] },
          },
          {
            model: "medium_ai",
            prompt: "Write the executive summary of this report for {audience}:\n\n{report}",
            output_variable: "executive_summary",
            config: { addons: ["executive_summary"] },
          },
        ],
      },
    ],
  },
  marketing_campaign: {
    description:
      "A marketing campaign: creative concept, Instagram, Twitter and Facebook copy, product imagery, a promotional video and email templates",
    variables: [
      { name: "product", description: "what the campaign sells", required: true },
      {
        name: "audience",
        description: "who the campaign speaks to",
        required: false,
        default: "general consumers",
      },
      { name: "tone", description: "the campaign's voice", required: false, default: "warm and confident" },
    ],
    workflow: [
      {
        type: "inline",
        tasks: [
          {
            model: "thinking_ai",
            prompt:
              "Develop the creative concept of a marketing campaign for {product}, aimed at {audience}, in a {tone} tone: the big idea, key message, tagline, three supporting messages and the visual direction.",
            output_variable: "creative_concept",
            config: { addons: ["value_proposition", "brand_voice"] },
          },
        ],
      },
      {
        type: "linear",
        tasks: [
          {
            model: "product_ai",
            prompt:
              "Write three Instagram posts for {product} following this campaign concept:\n{creative_concept}",
            output_variable: "instagram_copy",
            config: { addons: ["instagram"] },
          },
          {
            model: "product_ai",
            prompt:
              "Write a five-post Twitter/X thread for {product} following this campaign concept:\n{creative_concept}",
            output_variable: "twitter_copy",
            config: { addons: ["twitter"] },
          },
          {
            model: "product_ai",
            prompt:
              "Write two Facebook posts for {product} following this campaign concept:\n{creative_concept}",
            output_variable: "facebook_copy",
            config: { addons: ["facebook"] },
          },
          {
            model: "image_generation_ai",
            prompt:
              "Studio product photograph of {product} for a campaign aimed at {audience}: clean background, soft natural light, {tone} mood, the product as the clear hero.",
            output_variable: "product_image",
          },
          {
            model: "video_generation_ai",
            prompt:
              "An eight-second promotional video of {product}: the product in everyday use by {audience}, {tone} mood, ending on a close-up of the product.",
            output_variable: "promo_video",
          },
          {
            model: "product_ai",
            prompt:
              "Write a three-email launch sequence (subject, preview text, body, call to action) for {product} following this campaign concept:\n{creative_concept}",
            output_variable: "email_templates",
            config: { addons: ["email_campaigns"] },
          },
        ],
      },
    ],
  },
  code_project: {
    description: "A software project: architecture design, implementation, tests and documentation",
    variables: [
      { name: "project", description: "what to build", required: true },
      { name: "language", description: "programming language", required: false, default: "TypeScript" },
    ],
    workflow: [
      {
        type: "inline",
        tasks: [
          {
            model: "code_ai",
            prompt:
              "Design the architecture of this {language} project: {project}. Give the components, their responsibilities, the data flow, the file layout and the key interfaces.",
            output_variable: "architecture",
            config: { addons: ["architecture"] },
          },
          {
            model: "code_ai",
            prompt:
              "Implement this {language} project: {project}. Follow this architecture exactly:\n{architecture}",
            output_variable: "implementation",
            config: { temperature: 0.2 },
          },
        ],
      },
      {
        type: "linear",
        tasks: [
          {
            model: "code_ai",
            prompt: "Write automated tests in {language} for this implementation:\n{implementation}",
            output_variable: "tests",
            config: { temperature: 0.2, addons: ["testing"] },
          },
          {
            model: "medium_ai",
            prompt:
              "Write the README and usage documentation for this project.\n\nArchitecture:\n{architecture}\n\nImplementation:\n{implementation}",
            output_variable: "documentation",
            config: { addons: ["documentation"] },
          },
          {
            model: "code_ai",
            prompt:
              "Review this implementation for bugs, security problems and unclear code:\n{implementation}",
            output_variable: "code_review",
            config: { addons: ["code_review"] },
          },
        ],
      },
    ],
  },
};
