/**
 * Names and messages from outside the arbiter — file names, paths, what workers and tools
 * say — can carry terminal control sequences (`ESC ]0;title BEL` retitles the window,
 * `ESC [2J` clears it, C1 `CSI` does the same on some terminals). Before such text reaches a
 * terminal, every control character but tab and newline is shown as `\xNN` instead.
 */

/** C0 but tab (09) and newline (0a), DEL, and C1 (80–9f). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** `text` with every control character but tab and newline written as `\xNN`. */
export function escapeControl(text: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
