import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Readiness } from '../../runner/worker/readiness';

test('ready once listening when nothing holds it', () => {
  let ready = 0;
  const readiness = new Readiness(() => ready++);
  readiness.whenUnheld(() => readiness.markListening());
  assert.equal(ready, 1);
  readiness.markListening();
  assert.equal(ready, 1, 'reported once');
});

test('holds defer the listen itself and the readiness, until every hold is released', () => {
  let ready = 0;
  let listened = 0;
  const readiness = new Readiness(() => ready++);
  const releaseCache = readiness.hold('cache');
  const releaseDb = readiness.hold('db');
  readiness.whenUnheld(() => {
    listened++;
    readiness.markListening();
  });
  assert.equal(listened, 0);
  releaseCache();
  releaseCache(); // a second call changes nothing
  assert.equal(listened, 0);
  releaseDb();
  assert.deepEqual([listened, ready], [1, 1]);
  assert.doesNotThrow(() => readiness.hold('too late')(), 'a hold after ready is a no-op');
  assert.equal(ready, 1);
});

test('on cue: ready once the app asked to listen, listening only at the cue (or at once after it)', () => {
  let ready = 0;
  let listened = 0;
  const listen = () => {
    listened++;
    readiness.markListening();
  };
  const readiness = new Readiness(() => ready++, { acceptOnCue: true });
  const release = readiness.hold('cache');
  readiness.whenUnheld(listen);
  assert.deepEqual([ready, listened], [0, 0], 'a hold still comes first');
  release();
  assert.deepEqual([ready, listened], [1, 0], 'ready, and not accepting before the cue');
  readiness.accept();
  assert.deepEqual([ready, listened], [1, 1]);
  readiness.whenUnheld(listen);
  assert.deepEqual([ready, listened], [1, 2], 'after the cue, a listen runs at once');
});

test('a cue that comes before the app listens lets it listen at once', () => {
  let listened = 0;
  const readiness = new Readiness(() => undefined, { acceptOnCue: true });
  readiness.accept();
  readiness.whenUnheld(() => listened++);
  assert.equal(listened, 1);
});

test('on cue: a listen waiting for the cue is said (it holds nothing open), and awaited until the cue', () => {
  let said = 0;
  const readiness = new Readiness(() => undefined, { acceptOnCue: true, onAwaitingCue: () => said++ });
  assert.equal(readiness.awaitingCue, false, 'loaded, and not listening: nothing awaited');
  readiness.whenUnheld(() => undefined);
  assert.deepEqual([said, readiness.awaitingCue], [1, true]);
  readiness.accept();
  assert.equal(readiness.awaitingCue, false);
  readiness.whenUnheld(() => undefined);
  assert.equal(said, 1, 'after the cue nothing waits');
});
