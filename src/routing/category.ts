export const categories = ["L", "M", "H"] as const;
export type Category = (typeof categories)[number];
