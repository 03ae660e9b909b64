// The package's root folder (where web/ and package.json are), whether the service runs from its sources
// (src/...) or compiled (dist/src/...).
export const packageRoot: URL = new URL(
  import.meta.url.includes("/dist/src/") ? "../../../" : "../../",
  import.meta.url,
);
