/** An event storm: every event reaches the model while the tree redraws at a bounded rate. */
import assert from 'node:assert/strict';
import { readyInServing, say, until, type Test } from './support';

export const storm: Test[] = [
  [
    'an event storm (2,000 hook events in a second or two): every one reaches the model, the tree redraws at most ~10 times a second',
    async ({ api, storm }) => {
      const session = await api.manager.start(storm);
      assert.ok(session);
      await until(session, '1 ready worker', () => readyInServing(session) === 1);
      const hookEvents: number[] = [];
      const redraws: number[] = [];
      const counting = [
        session.onEvent((event) => event.type === 'hook' && hookEvents.push(performance.now())),
        api.tree.onDidChangeTreeData(() => redraws.push(performance.now())),
      ];
      // How late a 10 ms timer fires meanwhile: the extension host's responsiveness.
      let lastTick = performance.now();
      let worstLag = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        worstLag = Math.max(worstLag, now - lastTick - 10);
        lastTick = now;
      }, 10);
      try {
        await session.stop();
      } finally {
        clearInterval(ticker);
        for (const subscription of counting) subscription.dispose();
      }
      assert.equal(hookEvents.length, 2000, 'a start and an end for each of the 1,000 hooks');
      const spanMs = hookEvents.at(-1)! - hookEvents[0]!;
      const rate = (hookEvents.length / spanMs) * 1000;
      assert.ok(rate >= 500, `not a storm: ${Math.round(rate)} events/s`);
      const during = redraws.filter((t) => t >= hookEvents[0]! && t <= hookEvents.at(-1)! + 100).length;
      const allowed = Math.ceil(spanMs / 100) + 2;
      assert.ok(during <= allowed, `${during} redraws in ${Math.round(spanMs)} ms (at most ${allowed})`);
      const worker = session.model.generations.get(1)!.workers[0]!;
      assert.equal(worker.hooks.length, 1000);
      assert.ok(worker.hooks.every((hook) => hook.outcome === 'ok'));
      say(
        `storm: ${hookEvents.length} events in ${Math.round(spanMs)} ms (${Math.round(rate)}/s), ${during} tree redraws, worst timer lag ${Math.round(worstLag)} ms`,
      );
    },
  ],
];
