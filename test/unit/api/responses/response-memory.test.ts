import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResponseMemory } from "../../../../src/api/responses/response-memory.ts";

const turn = (text: string) => [{ role: "user" as const, content: text }];

describe("ResponseMemory", () => {
  it("gives each client its own quota of stored responses: a client past it evicts only its own", () => {
    const memory = new ResponseMemory({ maxMegabytesPerClient: 1, maxStoredPerClient: 2 });
    const alice = memory.of("alice");
    const bob = memory.of("bob");
    alice.remember("resp_a", turn("alice's"), new Map());
    for (const id of ["resp_b1", "resp_b2", "resp_b3"]) bob.remember(id, turn(id), new Map());
    assert.deepEqual(alice.conversation("resp_a"), turn("alice's"));
    assert.equal(bob.conversation("resp_b1"), undefined, "bob's oldest made room for his third");
    assert.deepEqual(bob.conversation("resp_b3"), turn("resp_b3"));
    assert.equal(bob.conversation("resp_a"), undefined, "no client reads another's");
  });

  it("bounds a client's stored bytes", () => {
    const memory = new ResponseMemory({ maxMegabytesPerClient: 1, maxStoredPerClient: 100 });
    const open = memory.of(undefined);
    open.remember("resp_1", turn("x".repeat(600_000)), new Map());
    open.remember("resp_2", turn("x".repeat(600_000)), new Map());
    assert.equal(open.conversation("resp_1"), undefined);
    assert.ok(open.conversation("resp_2"));
  });
});
