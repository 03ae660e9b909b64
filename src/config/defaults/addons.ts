// The 50 built-in prompt addons. An addon is extra system-prompt text that a request or workflow task
// enables by name (`config.addons`) to specialise the model. A config file may add more or replace one.
export type AddonCategory =
  | "content_creation"
  | "marketing"
  | "social_media"
  | "business"
  | "research"
  | "technical"
  | "creative";

export interface BuiltInAddon {
  readonly category: AddonCategory;
  readonly description: string;
  readonly prompt: string;
}

export const builtInAddons: Readonly<Record<string, BuiltInAddon>> = {
  blog_writing: {
    category: "content_creation",
    description: "Compelling blog posts with SEO optimization.",
    prompt:
      "Write the post with a headline, a hook in the first two sentences, scannable H2/H3 sections and a clear takeaway or call to action at the end. Work the main keyword into the title, the first paragraph and one subheading naturally, and suggest a meta description of at most 155 characters. Prefer concrete examples, numbers and short paragraphs over generic statements.",
  },
  headline_optimization: {
    category: "content_creation",
    description: "Attention-grabbing headlines.",
    prompt:
      "Offer at least five headline options that use different angles: a number, a question, a bold claim, a how-to and a benefit-led line. Keep each under 70 characters, lead with the strongest word, and avoid clickbait that the content cannot back up. Mark the option you recommend and say in one sentence why.",
  },
  storytelling: {
    category: "content_creation",
    description: "Narrative-driven content.",
    prompt:
      "Shape the content as a story: a relatable protagonist, a clear tension or problem, a turning point and a resolution that carries the message. Show with specific sensory details and dialogue rather than telling, and keep a single through-line. End with a line that connects the story back to the reader's situation.",
  },
  case_study: {
    category: "content_creation",
    description: "Professional case studies.",
    prompt:
      "Structure the case study as Challenge, Approach, Results and Lessons. Quantify results with before-and-after figures wherever the input allows, and attribute claims to a named role (for example, Head of Operations). Keep the tone factual, and close with what other organisations can apply from it.",
  },
  press_release: {
    category: "content_creation",
    description: "Newsworthy press releases in standard format.",
    prompt:
      "Use press-release format: a headline, a dateline, a lead paragraph answering who, what, when, where and why, then supporting detail in descending order of importance. Include one or two quotes attributed to named spokespeople and a boilerplate 'About' paragraph. Keep it objective and under 500 words, with no marketing superlatives.",
  },
  newsletter: {
    category: "content_creation",
    description: "Engaging email newsletters.",
    prompt:
      "Write a subject line, a preview line and a short, personal opening. Organise the body into three to five clearly labelled sections, each with one idea and one link or action. Keep the voice consistent with a recurring publication and end with a single primary call to action.",
  },
  product_description: {
    category: "content_creation",
    description: "Persuasive product descriptions.",
    prompt:
      "Lead with the main benefit in one sentence, then list key features each paired with what it means for the buyer. Include practical details (materials, dimensions, compatibility, care) a shopper needs to decide. Write for scanning: short sentences, bullet points, and no claims the product facts do not support.",
  },
  seo_optimization: {
    category: "content_creation",
    description: "Search-optimised content structure.",
    prompt:
      "Identify the primary keyword and three to five related terms, and use them naturally in the title, headings, first 100 words and image alt text. Answer the searcher's intent directly near the top, structure the page with descriptive headings, and suggest internal links and a meta title and description. Never stuff keywords or sacrifice readability.",
  },
  copy_editing: {
    category: "content_creation",
    description: "Careful copy editing for clarity and correctness.",
    prompt:
      "Correct grammar, spelling, punctuation and consistency, and tighten wordy sentences without changing the author's meaning or voice. Flag factual claims that need a source and ambiguous passages you could not resolve. Return the edited text followed by a short list of the most important changes.",
  },
  summarization: {
    category: "content_creation",
    description: "Faithful, structured summaries.",
    prompt:
      "Start with a one-sentence summary of the main point, then give the key points as bullets in order of importance. Preserve numbers, names and caveats exactly, and do not add information that is not in the source. Note at the end anything important the source leaves unclear.",
  },
  email_campaigns: {
    category: "marketing",
    description: "Strategic email sequences.",
    prompt:
      "Plan the sequence as a numbered series of emails with the goal, send timing and audience segment of each. For every email give a subject line, preview text, body copy and one clear call to action. Build logically from awareness to action, and include a re-engagement or last-chance email at the end.",
  },
  ad_copy: {
    category: "marketing",
    description: "High-converting advertisements.",
    prompt:
      "Write ad variants sized for the named platform's limits (headline, primary text, description). Lead with the audience's problem or desire, state one clear benefit, add proof or urgency where honest, and end with a specific call to action. Provide at least three variants that test different angles.",
  },
  landing_page: {
    category: "marketing",
    description: "Optimized landing pages.",
    prompt:
      "Structure the page as hero (headline, subheadline, primary call to action), problem, solution with benefits, social proof, objection handling or FAQ, and a closing call to action. Keep one conversion goal throughout and repeat the call to action after each major section. Write the copy, and describe the visual for each section in one line.",
  },
  value_proposition: {
    category: "marketing",
    description: "Clear value statements.",
    prompt:
      "State who the product is for, the problem it solves, the main benefit and what makes it different, in one or two sentences a customer would understand at a glance. Back it with three supporting points. Avoid jargon and vague superlatives such as 'best-in-class'.",
  },
  brand_voice: {
    category: "marketing",
    description: "Consistent brand voice.",
    prompt:
      "Define or follow the brand voice as three to four traits, each with a 'this, not that' example. Keep vocabulary, sentence length and formality consistent with those traits across every piece you write. Point out any requested phrasing that would break the voice.",
  },
  market_positioning: {
    category: "marketing",
    description: "Sharp market positioning.",
    prompt:
      "Identify the target segment, the category frame of reference, the key point of difference and the reason to believe it. Compare the position against two or three named alternatives customers actually consider. Finish with a one-sentence positioning statement and the messaging pillars that follow from it.",
  },
  pricing_strategy: {
    category: "marketing",
    description: "Reasoned pricing recommendations.",
    prompt:
      "Consider the value delivered to the customer, competitor prices and the cost floor, and state assumptions explicitly. Propose a pricing model (tiers, usage-based, freemium, etc.) with concrete price points and what each tier includes. Note risks such as cannibalisation or churn and how to test the pricing before committing.",
  },
  instagram: {
    category: "social_media",
    description: "Instagram-optimized content.",
    prompt:
      "Write a caption whose first line works as a hook before the 'more' cut-off, with short lines and line breaks for readability. Add a clear call to action and 5-15 relevant hashtags mixing broad and niche tags. Describe the image or carousel slides the caption is meant to accompany.",
  },
  linkedin: {
    category: "social_media",
    description: "Professional LinkedIn posts.",
    prompt:
      "Open with a one-line hook, then share a concrete insight, lesson or result from professional experience in short paragraphs. Keep the tone credible and conversational rather than salesy, and end with a question that invites comments. Use at most three hashtags.",
  },
  tiktok: {
    category: "social_media",
    description: "TikTok video scripts.",
    prompt:
      "Write a script for a 15-60 second vertical video: a hook in the first two seconds, fast-paced beats with on-screen text, and a payoff or call to action at the end. Give timestamps, spoken lines, on-screen text and shot directions for each beat. Suggest a trending-style sound or format where it fits.",
  },
  twitter: {
    category: "social_media",
    description: "Concise Twitter/X threads.",
    prompt:
      "Keep each post within 280 characters. For a thread, make the first post a strong standalone hook, number the posts, give each one idea, and end with a summary or call to action. Use plain language, at most two hashtags, and no filler.",
  },
  facebook: {
    category: "social_media",
    description: "Facebook posts that spark engagement.",
    prompt:
      "Write a conversational post of 40-80 words that speaks to a community, with an opening that stops the scroll and a question or prompt that invites replies. Suggest the visual to pair with it. Keep links and hashtags to a minimum and the call to action explicit.",
  },
  youtube: {
    category: "social_media",
    description: "YouTube video titles, descriptions and scripts.",
    prompt:
      "Provide a searchable title under 60 characters, a description whose first two lines summarise the value, chapter timestamps and relevant tags. When a script is requested, open with a 15-second hook that previews the payoff, structure the body in clear segments, and close with a call to subscribe or watch next.",
  },
  pinterest: {
    category: "social_media",
    description: "Pinterest pins that drive clicks.",
    prompt:
      "Write a keyword-rich pin title and a 100-200 character description that says what the reader will get from clicking. Describe a vertical (2:3) pin image with readable text overlay. Suggest two or three boards the pin belongs on.",
  },
  business_proposal: {
    category: "business",
    description: "Professional proposals.",
    prompt:
      "Structure the proposal as executive summary, understanding of the client's need, proposed solution, deliverables and timeline, pricing, why us, and next steps. Tie every part of the solution to a stated client goal. Be specific about scope, assumptions and what is out of scope.",
  },
  executive_presentation: {
    category: "business",
    description: "Executive-level presentations.",
    prompt:
      "Lead with the conclusion or recommendation, then the three supporting arguments with the key data for each, then risks and the decision or resources requested. Give slide-by-slide titles written as full-sentence takeaways and keep each slide to one message. Aim for ten slides or fewer and put detail in an appendix.",
  },
  swot_analysis: {
    category: "business",
    description: "Strategic SWOT analysis.",
    prompt:
      "List strengths and weaknesses (internal) and opportunities and threats (external), each with three to five specific, evidence-based points. Then derive strategies: use strengths to seize opportunities, fix weaknesses that expose threats. Prioritise the top three actions.",
  },
  customer_persona: {
    category: "business",
    description: "Detailed customer personas.",
    prompt:
      "Build each persona with a name, role and demographics, goals, pain points, buying triggers, objections, information sources and a representative quote. Base details on the information given and mark any assumption as one. Close with how marketing and product should address this persona.",
  },
  executive_summary: {
    category: "business",
    description: "Concise executive summaries.",
    prompt:
      "Write for a reader with two minutes: the situation, the key finding or recommendation, the supporting evidence in three bullets, and the decision or next step needed. Keep it under 250 words, put numbers up front, and avoid background the reader already knows.",
  },
  sales_pitch: {
    category: "business",
    description: "Persuasive sales pitches.",
    prompt:
      "Open with the prospect's specific problem and its cost, introduce the solution through its outcome, and support it with one proof point such as a result or testimonial. Anticipate the top two objections and answer them. End with a low-friction next step.",
  },
  project_plan: {
    category: "business",
    description: "Actionable project plans.",
    prompt:
      "Break the project into phases with milestones, tasks, owners (by role), durations and dependencies. Identify the critical path, key risks with mitigations, and the definition of done for each milestone. Present the schedule as a table.",
  },
  okr_planning: {
    category: "business",
    description: "Objectives and key results.",
    prompt:
      "Write two to four inspiring, qualitative objectives, each with three to five measurable key results that have a baseline and a target. Make key results outcomes, not task lists, and add the main initiatives that should move each one. Flag any key result that cannot be measured with current data.",
  },
  meeting_notes: {
    category: "business",
    description: "Clear meeting notes and action items.",
    prompt:
      "Summarise the meeting as purpose, key discussion points, decisions made and action items. Give every action item an owner and a due date where known, and list open questions separately. Keep it short enough to read in one minute.",
  },
  research: {
    category: "research",
    description: "Thorough, well-sourced research.",
    prompt:
      "Investigate the topic systematically: define the question, cover the main perspectives, and separate established facts from estimates and opinions. Cite sources or name the kind of source for every important claim, and state your confidence where evidence is thin. End with key findings and open questions.",
  },
  market_research: {
    category: "research",
    description: "Market sizing and trend research.",
    prompt:
      "Estimate market size with a stated method (top-down and bottom-up where possible) and show the assumptions. Cover growth drivers, key segments, customer needs, major players and regulatory factors. Label every figure with its source or as an estimate.",
  },
  competitive_analysis: {
    category: "research",
    description: "Structured competitor analysis.",
    prompt:
      "Compare the named competitors on target customers, offering, pricing, positioning, strengths and weaknesses, using a table. Identify gaps in the market and where each competitor is vulnerable. Conclude with implications and recommended moves for the user's organisation.",
  },
  data_analysis: {
    category: "research",
    description: "Rigorous data analysis.",
    prompt:
      "State the question, describe the data and its limitations, then present the analysis step by step with the method used. Report results with numbers and units, distinguish correlation from causation, and point out outliers or data-quality issues. End with conclusions and what further data would change them.",
  },
  fact_checking: {
    category: "research",
    description: "Careful fact checking.",
    prompt:
      "Break the text into individual factual claims and assess each as supported, disputed, false or unverifiable, with the reasoning or source. Pay special attention to numbers, dates, quotes and attributions. Suggest corrected wording for any claim that is wrong.",
  },
  literature_review: {
    category: "research",
    description: "Academic-style literature reviews.",
    prompt:
      "Organise the review by themes rather than source by source, summarising the main findings, methods and disagreements in each theme. Note the quality and recency of the evidence and the gaps that remain. Use consistent citation style and distinguish seminal work from recent developments.",
  },
  code_review: {
    category: "technical",
    description: "Thorough code reviews.",
    prompt:
      "Review for correctness first, then security, performance, readability and tests. For each issue give the location, why it matters and a concrete fix, and rank issues by severity. Acknowledge what is done well, and do not nitpick style that a formatter would handle.",
  },
  documentation: {
    category: "technical",
    description: "Clear technical documentation.",
    prompt:
      "Write for the reader's task: a short overview, prerequisites, step-by-step instructions with copy-pasteable examples, configuration reference and troubleshooting. Use consistent terminology and headings, and show expected output for commands. Keep sentences short and define every term on first use.",
  },
  testing: {
    category: "technical",
    description: "Effective automated tests.",
    prompt:
      "Cover the main behaviour, edge cases and failure paths, with one clear assertion focus per test and descriptive test names. Prefer real collaborators or faithful fakes over mocks of internals, and keep tests deterministic by injecting time and randomness. Explain which risks the tests cover and which they do not.",
  },
  architecture: {
    category: "technical",
    description: "Sound software architecture.",
    prompt:
      "Start from the requirements and constraints (scale, latency, consistency, team, budget), then propose components, their responsibilities and the data flow between them. Justify each major choice against at least one alternative and name the trade-offs. Include failure modes and how the design handles them.",
  },
  api_design: {
    category: "technical",
    description: "Consistent, usable API design.",
    prompt:
      "Design resources and operations with consistent naming, correct HTTP methods and status codes, pagination, filtering and versioning. Specify request and response schemas with examples and a uniform error format. Consider idempotency, authentication and rate limits.",
  },
  debugging: {
    category: "technical",
    description: "Systematic debugging.",
    prompt:
      "Restate the symptom precisely, list the most likely causes ranked by probability, and propose the quickest checks to tell them apart. Once the cause is identified, give the fix, explain why it works, and suggest a test that would have caught it. Do not guess silently: state assumptions.",
  },
  security_review: {
    category: "technical",
    description: "Security-focused review.",
    prompt:
      "Check for injection, broken authentication and authorisation, sensitive data exposure, insecure defaults, dependency risks and secrets in code. Rate each finding by severity and exploitability and give a concrete remediation. Mention the secure-by-default alternative where one exists.",
  },
  product_photography: {
    category: "creative",
    description: "Image prompts for product shots.",
    prompt:
      "When describing images to generate, specify the product, its angle and framing, background and surface, lighting setup (for example softbox key light with rim light), lens and depth of field, colour palette and mood. Keep the product the clear hero, with accurate proportions and no distorted text or logos. Give one prompt per shot, ready to send to an image model.",
  },
  video_script: {
    category: "creative",
    description: "Video scripts with shots and voice-over.",
    prompt:
      "Write the script as a table of scenes with duration, visuals, camera movement, on-screen text and voice-over or dialogue. Open with a hook in the first three seconds, keep one idea per scene, and end with a clear call to action. State the total runtime and aspect ratio.",
  },
  screenwriting: {
    category: "creative",
    description: "Screenplay-formatted scenes.",
    prompt:
      "Use standard screenplay format: scene headings, action lines in present tense, character names and dialogue. Reveal character through action and subtext rather than exposition, and give each scene a clear purpose and turn. Keep action lines lean and visual.",
  },
  poetry: {
    category: "creative",
    description: "Crafted poetry.",
    prompt:
      "Choose a form that suits the subject (free verse unless a form is requested) and keep its constraints exactly. Use concrete imagery, deliberate line breaks and sound (rhythm, assonance, rhyme where chosen). Avoid clich\u00e9s and end on an image or turn that resonates.",
  },
};
