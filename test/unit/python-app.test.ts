import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkInterpreter, gunicornConfigFile, isPythonApp } from '../../runner/config/python-app';

test("gunicorn's APP forms are Python apps; a file, even one with a colon in its name, is not", () => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-pyapp-'));
  mkdirSync(join(dir, 'mysite'));
  writeFileSync(join(dir, 'mysite', 'wsgi.py'), '');
  mkdirSync(join(dir, 'pkg'));
  writeFileSync(join(dir, 'pkg', '__init__.py'), '');
  writeFileSync(join(dir, 'server.js'), '');
  const python = [
    'app:application',
    'shop.wsgi:app',
    '_private:_app',
    'flaskr:create_app()',
    "flaskr:create_app('test', debug=True)",
    'mysite.wsgi',
    'pkg',
  ];
  for (const app of python) assert.equal(isPythonApp(app, dir), true, app);
  for (const app of [
    'server.js',
    'server',
    'app:',
    ':app',
    'a/b:app',
    'C:\\app.js',
    'mysite.urls',
    'nothing',
  ])
    assert.equal(isPythonApp(app, dir), false, app);
  writeFileSync(join(dir, 'odd:name'), '');
  assert.equal(isPythonApp('odd:name', dir), false, 'an existing file wins');
});

test('the gunicorn config: the one named must exist; otherwise ./gunicorn.conf.py when there is one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-pyconf-'));
  assert.equal(gunicornConfigFile('', dir), undefined);
  assert.throws(
    () => gunicornConfigFile('nope.py', dir),
    /the gunicorn config 'nope\.py' does not exist \(looked for .*nope\.py\)/,
  );
  writeFileSync(join(dir, 'gunicorn.conf.py'), '');
  assert.equal(gunicornConfigFile('', dir), join(dir, 'gunicorn.conf.py'));
});

test('an interpreter that does not exist, or is not Python 3, is one clear line', () => {
  assert.throws(
    () => checkInterpreter('/nonexistent/python9'),
    /the Python interpreter '\/nonexistent\/python9' was not found \(set it with --python PATH\)/,
  );
  assert.throws(() => checkInterpreter('false'), /'false' is not a usable Python 3\.8\+/);
});
