import MarkdownIt from "markdown-it";

// Model answers are markdown. Raw HTML in them is shown as text, never run; links open in a new tab.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });
const defaultLink = markdown.renderer.rules.link_open;
markdown.renderer.rules.link_open = (tokens, index, options, env, self) => {
  tokens[index]?.attrSet("target", "_blank");
  tokens[index]?.attrSet("rel", "noopener noreferrer");
  return defaultLink
    ? defaultLink(tokens, index, options, env, self)
    : self.renderToken(tokens, index, options);
};

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (value === 0) return "$0";
  return value < 0.01 ? `$${value.toPrecision(2)}` : `$${value.toFixed(4)}`;
}

export function formatSeconds(startedAt: string | null, finishedAt: string | null, now: number): string {
  if (!startedAt) return "";
  const end = finishedAt ? Date.parse(finishedAt) : now;
  return `${((end - Date.parse(startedAt)) / 1000).toFixed(1)} s`;
}
