/**
 * The Python worker runtime speaks the control protocol that runner/protocol/control.ts
 * defines: it cannot import the TypeScript, so this reads what its sources send and handle.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { arbiterMessageSchema, parseWorkerMessage, workerMessageSchema } from '../../runner/protocol/control';
import { EXIT } from '../../runner/protocol/exit-codes';
import { MAX_LINE_LENGTH } from '../../runner/protocol/line-splitter';

const RUNTIME = join(__dirname, '../../runner/python/arbiter_worker');
const sources = readdirSync(RUNTIME)
  .filter((name) => name.endsWith('.py'))
  .map((name) => ({ name, text: readFileSync(join(RUNTIME, name), 'utf8') }));

/** Every control message type a dict literal in the runtime names (ASGI's own, `http.*`, have a dot). */
function sentTypes(): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  for (const { name, text } of sources)
    for (const [, type] of text.matchAll(/\{\s*"type":\s*"([a-z-]+)"/g))
      sent.set(type!, [...(sent.get(type!) ?? []), name]);
  return sent;
}

test('the Python runtime sends every message the arbiter takes, and no other', () => {
  const sent = sentTypes();
  for (const [type, files] of sent)
    assert.ok(
      workerMessageSchema.types.includes(type),
      `${type} (sent in ${files.join(', ')}) is not in control.ts`,
    );
  assert.deepEqual([...sent.keys()].sort(), [...workerMessageSchema.types].sort());
});

test("the Python runtime's exit codes are the protocol's", () => {
  const text = sources.find(({ name }) => name === 'exit_codes.py')!.text;
  const codes: Record<string, number> = {};
  for (const [, name, code] of text.matchAll(/^([A-Z_]+) = (\d+)$/gm)) codes[name!] = Number(code);
  assert.deepEqual(codes, { APP_LOAD_ERROR: EXIT.APP_LOAD_ERROR });
  for (const { name, text: source } of sources)
    assert.doesNotMatch(source, /(?:return|exit\()\s*4\b/, `${name} writes exit code 4 as a literal`);
});

test('every message the arbiter sends is one the Python runtime handles', () => {
  // main.py reads the arbiter's messages: the boot first, then on_message.
  const main = sources.find(({ name }) => name === 'main.py')!.text;
  const onMessage = /def on_message\(self, message\):\n([\s\S]*?)\n {4}def /.exec(main)?.[1] ?? '';
  const handled = new Set<string>();
  for (const [, type] of onMessage.matchAll(/kind == "([a-z-]+)"/g)) handled.add(type!);
  for (const [, type] of main.matchAll(/\.get\("type"\) [!=]= "([a-z-]+)"/g)) handled.add(type!);
  assert.deepEqual([...arbiterMessageSchema.types].sort(), [...handled].sort());
});

test(
  "the Python runtime's boot profile is the ready message's profile",
  { skip: !existsSync('/usr/bin/python3') },
  () => {
    // Made by the runtime's own code, around a real import, and read with control.ts's validator.
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(join(RUNTIME, '..'))})`,
      'from arbiter_worker.boot_profile import BootTiming',
      'timing = BootTiming()',
      'with timing.loading():',
      '    import json.decoder, email.parser',
      'print(json.dumps({"type": "ready", "profile": timing.profile()}))',
    ].join('\n');
    const line = execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim();
    const parsed = parseWorkerMessage(line);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const { profile } = parsed.value as {
      profile?: { bootMs: number; codeMs: number; listenMs: number; deps: { ms?: number } };
    };
    assert.ok(profile);
    assert.ok(profile.codeMs + profile.listenMs + (profile.deps.ms ?? 0) <= profile.bootMs, line);
  },
);

const PYTHON = '/usr/bin/python3';

/**
 * The runtime's own code makes a `preloaded` answer (one module loaded, one missing), a
 * `dependencies` report, and one for a list too long for a control line, cut to fit.
 */
const WARM_MESSAGES = `
import json, os, sys
sys.path.insert(0, sys.argv[1])
from arbiter_worker.dependencies import DependencyReport, ThirdParty, bounded
from arbiter_worker.preload import preload
third_party = ThirdParty(os.getcwd(), sys.modules)
answer, _ = preload({"type": "preload", "modules": ["email.mime.text", "no_such_module_here"], "env": {}}, third_party)
sent = []
DependencyReport(sent.append, third_party).ready()
print(json.dumps(answer))
print(json.dumps(sent[0]))
print(json.dumps({"type": "dependencies", "modules": bounded(["m" * 60] * 50000)}, separators=(",", ":")))
`;

/** What issue 15 says of the two messages, for as long as control.ts has no schema for them. */
function checkAgainstSpec(message: Record<string, unknown>): void {
  const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;
  if (message.type === 'dependencies') {
    assert.deepEqual(Object.keys(message).sort(), ['modules', 'type']);
    assert.ok(Array.isArray(message.modules) && message.modules.every((name) => typeof name === 'string'));
    return;
  }
  assert.equal(message.type, 'preloaded');
  for (const field of ['loaded', 'skipped', 'ms']) assert.ok(isCount(message[field]), `${field} is a count`);
  const failed = (message.failed ?? []) as unknown[];
  for (const entry of failed) {
    assert.deepEqual(Object.keys(entry as object).sort(), ['error', 'module']);
    const { module, error } = entry as Record<string, unknown>;
    assert.ok(typeof module === 'string' && typeof error === 'string');
  }
  assert.deepEqual(Object.keys(message).sort(), [
    ...(failed.length ? ['failed'] : []),
    'loaded',
    'ms',
    'skipped',
    'type',
  ]);
}

test(
  "the Python runtime's dependencies and preloaded messages are the protocol's",
  { skip: !existsSync(PYTHON) && `${PYTHON} is not installed` },
  () => {
    const lines = execFileSync(PYTHON, ['-c', WARM_MESSAGES, join(RUNTIME, '..')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    const [preloaded, dependencies, long] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(preloaded!.loaded, 1);
    assert.deepEqual(preloaded!.failed, [
      { module: 'no_such_module_here', error: "ModuleNotFoundError: No module named 'no_such_module_here'" },
    ]);
    assert.ok(Array.isArray(dependencies!.modules));
    assert.ok(
      lines[2]!.length < MAX_LINE_LENGTH && (long!.modules as string[]).length > 1000,
      'a long list is cut to fit',
    );
    for (const line of lines) {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (workerMessageSchema.types.includes(message.type as string)) {
        const parsed = parseWorkerMessage(line);
        assert.ok(parsed.ok, `${line}: ${parsed.ok ? '' : parsed.error}`);
      } else checkAgainstSpec(message);
    }
  },
);
