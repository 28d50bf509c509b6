import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunicornSettings } from '../../runner/config/gunicorn-settings';

const FILE = '/p/gunicorn.conf.py';

test("gunicorn's master settings become the arbiter's", () => {
  const mapped = gunicornSettings(
    {
      bind: ['127.0.0.1:9000', 'unix:/tmp/app.sock'],
      workers: 3,
      timeout: 10,
      graceful_timeout: 5,
      max_requests: 100,
      max_requests_jitter: 10,
      threads: 4,
      worker_class: 'gthread',
      wsgi_app: 'mysite.wsgi:application',
      keepalive: 5, // a worker's setting: gunicorn applies it in the worker
    },
    FILE,
    '/p',
  );
  assert.deepEqual(mapped, {
    settings: {
      bind: ['127.0.0.1:9000', 'unix:/tmp/app.sock'],
      workers: 3,
      timeout: 10,
      gracefulTimeout: 5,
      maxRequests: 100,
      maxRequestsJitter: 10,
      threads: 4,
      workerClass: 'gthread',
    },
    app: 'mysite.wsgi:application',
    ignored: [],
  });
});

test("uvicorn's worker under gunicorn is an ASGI app here; defaults repeated ask for nothing", () => {
  assert.deepEqual(
    gunicornSettings(
      { worker_class: 'uvicorn.workers.UvicornWorker', daemon: false, reload: false, chdir: '/p' },
      FILE,
      '/p',
    ),
    { settings: { interface: 'asgi' }, ignored: [] },
  );
});

test('what means nothing here is named; what the arbiter cannot do is refused', () => {
  assert.deepEqual(gunicornSettings({ preload_app: true, proc_name: 'shop' }, FILE, '/p').ignored, [
    'preload_app (each worker imports the app itself)',
    'proc_name (not used)',
  ]);
  assert.throws(
    () => gunicornSettings({ user: 1234, chdir: '/srv/app' }, FILE, '/p'),
    /sets what the arbiter cannot do: user \(the arbiter does not switch users\), chdir/,
  );
  assert.throws(
    () => gunicornSettings({ bind: ['fd://3'] }, FILE, '/p'),
    /bind fd:\/\/3: the arbiter binds its own sockets/,
  );
  assert.throws(
    () => gunicornSettings({ worker_class: 'tornado' }, FILE, '/p'),
    /worker_class tornado is not one the arbiter runs/,
  );
});
