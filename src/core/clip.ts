// Text cut to at most `max` characters, with a mark that says it was cut (nothing when it fits).
export function clip(text: string, max: number, mark = " […]"): string {
  return text.length <= max ? text : `${text.slice(0, max)}${mark}`;
}
