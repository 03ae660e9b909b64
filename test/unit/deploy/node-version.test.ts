import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { minimum, tooOld } from "../../../scripts/node-version.mjs";

const checkScript = new URL("../../../scripts/check-node.mjs", import.meta.url).pathname;

describe("the Node.js version check", () => {
  it("tells an old Node.js which version is needed and how to get it", () => {
    const message = tooOld("20.20.2");
    assert.ok(message);
    assert.match(
      message,
      /needs Node\.js 22\.13 or newer \(24 LTS recommended\); this is Node\.js 20\.20\.2/,
    );
    assert.match(message, /nvm install 24/);
    assert.match(message, /https:\/\/nodejs\.org/);
    assert.match(tooOld("v22.12.0") ?? "", /this is Node\.js v22\.12\.0/);
    assert.equal(tooOld("18.0.0") === undefined, false);
  });

  it("lets a new enough Node.js through, this one included", () => {
    assert.deepEqual(minimum, { major: 22, minor: 13 });
    assert.equal(tooOld("22.13.0"), undefined);
    assert.equal(tooOld("23.0.0"), undefined);
    assert.equal(tooOld("24.21.0"), undefined);
    assert.equal(tooOld(process.versions.node), undefined);
    const run = spawnSync(process.execPath, [checkScript], { encoding: "utf8" });
    assert.equal(run.status, 0);
    assert.equal(run.stderr, "");
  });
});
