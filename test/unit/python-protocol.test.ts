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
  for (const [, type] of main.matchAll(/\.get\("type"\) != "([a-z-]+)"/g)) handled.add(type!);
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
