// Runs before npm install's build, npm start and npm run worker: on a Node.js that is too old it says which
// version is needed and how to get it, instead of failing later on an option or module it does not know.
import { tooOld } from "./node-version.mjs";

const message = tooOld(process.versions.node);
if (message) {
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}
