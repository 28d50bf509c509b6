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
