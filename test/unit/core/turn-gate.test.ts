import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnGate } from "../../../src/core/turn-gate.ts";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("TurnGate", () => {
  it("runs the first piece of work at once", () => {
    const gate = new TurnGate(() => undefined);
    let ran = false;
    gate.run(() => {
      ran = true;
    });
    assert.equal(ran, true);
    assert.equal(gate.waiting, 0);
  });

  it("runs later ones one per turn, in order, each after the promise chains the previous one set off", async () => {
    const gate = new TurnGate(() => undefined);
    const order: string[] = [];
    const chained = (name: string) => () => {
      order.push(name);
      // Work a start only queues: it runs on the microtask queue after the start returns.
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => order.push(`${name} chain`));
    };
    gate.run(chained("a"));
    gate.run(chained("b"));
    gate.run(chained("c"));
    assert.deepEqual(order, ["a"]);
    assert.equal(gate.waiting, 2);
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    await turn();
    assert.deepEqual(order, ["a", "a chain", "b", "b chain"], "one per turn, after the previous one's chain");
    await turn();
    assert.deepEqual(order, ["a", "a chain", "b", "b chain", "c", "c chain"]);
    assert.equal(timerRan, true, "timers are served between the turns");
    await turn();
    assert.equal(gate.waiting, 0);
    let idleRan = false;
    gate.run(() => {
      idleRan = true;
    });
    assert.equal(idleRan, true, "once the queue is empty, work runs at once again");
  });

  it("reports work that throws and goes on with the next", async () => {
    const errors: unknown[] = [];
    const gate = new TurnGate((error) => errors.push(error));
    gate.run(() => undefined);
    const ran: string[] = [];
    gate.run(() => {
      throw new Error("broken start");
    });
    gate.run(() => ran.push("after"));
    await turn();
    await turn();
    assert.deepEqual(
      errors.map((error) => (error as Error).message),
      ["broken start"],
    );
    assert.deepEqual(ran, ["after"]);
  });
});
