// Which Node.js the service needs, and what to say when it runs on an older one. Plain JavaScript that any
// Node.js can run, so the message is what an old Node shows instead of an unknown-option error.

export const minimum = { major: 22, minor: 13 };

// undefined when `version` (such as "20.19.2") is new enough; otherwise the message to print.
export function tooOld(version) {
  const [major = 0, minor = 0] = String(version).replace(/^v/, "").split(".").map(Number);
  if (major > minimum.major || (major === minimum.major && minor >= minimum.minor)) return undefined;
  return [
    `This service needs Node.js ${minimum.major}.${minimum.minor} or newer (24 LTS recommended); this is Node.js ${version}.`,
    "It uses Node's built-in SQLite (node:sqlite), which older versions lack.",
    "Install Node.js 24:",
    "  with nvm:  nvm install 24 && nvm use 24   (the repository's .nvmrc says 24, so `nvm use` alone works)",
    "  with fnm:  fnm install 24 && fnm use 24",
    "  or from https://nodejs.org/en/download, or run the Docker image (it is built on node:24-slim).",
    "Then run npm install and npm start again.",
  ].join("\n");
}
