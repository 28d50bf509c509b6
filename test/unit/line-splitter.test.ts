import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter } from '../../runner/protocol/line-splitter';

function split(chunks: string[], options?: ConstructorParameters<typeof LineSplitter>[1]) {
  const lines: string[] = [];
  let tooLong = 0;
  const splitter = new LineSplitter((line) => lines.push(line), {
    ...options,
    ...(options?.onTooLong ? { onTooLong: () => tooLong++ } : {}),
  });
  for (const chunk of chunks) splitter.push(chunk);
  return { lines, tooLong, splitter };
}

test('lines across chunks, CRLF, an empty line, a partial last line kept until flush', () => {
  const { lines, splitter } = split(['a', 'b\nc\r\n', '\nd', 'e']);
  assert.deepEqual(lines, ['ab', 'c', '']);
  splitter.flush();
  assert.deepEqual(lines, ['ab', 'c', '', 'de']);
});

test('without onTooLong, a long line is passed on in pieces of maxLength, nothing lost', () => {
  const { lines, splitter } = split(['abcd', 'efghij', 'k\nxy'], { maxLength: 4 });
  assert.deepEqual(lines, ['abcd', 'efgh', 'ijk']);
  splitter.flush();
  assert.deepEqual(lines, ['abcd', 'efgh', 'ijk', 'xy']);
  // A line of exactly a multiple of maxLength leaves no empty piece behind.
  assert.deepEqual(split(['abcdefgh', '\n'], { maxLength: 4 }).lines, ['abcd', 'efgh']);
  assert.deepEqual(split(['abcdefghi\n'], { maxLength: 4 }).lines, ['abcd', 'efgh', 'i']);
});

test('with onTooLong, a long line is reported once and dropped up to its newline', () => {
  const onTooLong = () => undefined;
  const spanning = split(['ok\nabc', 'defgh', 'ijkl', 'm\nnext\n'], { maxLength: 4, onTooLong });
  assert.deepEqual(spanning.lines, ['ok', 'next']);
  assert.equal(spanning.tooLong, 1);
  const inOneChunk = split(['abcdefgh\nnext\n'], { maxLength: 4, onTooLong });
  assert.deepEqual(inOneChunk.lines, ['next']);
  assert.equal(inOneChunk.tooLong, 1);
  const atFlush = split(['abcdefgh'], { maxLength: 4, onTooLong });
  atFlush.splitter.flush();
  assert.deepEqual(atFlush.lines, []);
});

test('linear time: 64 MiB without a newline in 64 KiB chunks is quick', () => {
  const chunk = 'x'.repeat(64 * 1024);
  const started = performance.now();
  const pieces = split([], { maxLength: 1024 * 1024 });
  for (let i = 0; i < 1024; i++) pieces.splitter.push(chunk);
  pieces.splitter.push('\n');
  const took = performance.now() - started;
  assert.equal(pieces.lines.length, 64);
  assert.ok(pieces.lines.every((line) => line.length === 1024 * 1024));
  // Quadratic splitting took minutes for this; linear takes well under a second even when loaded.
  assert.ok(took < 5000, `took ${took} ms`);
});
