/**
 * Whether a message a debug adapter sent says its debuggee stopped (`true`) or runs again
 * (`false`); undefined when it says neither. Pure, so that tests feed it the messages a real
 * adapter (js-debug, debugpy) sends.
 */

/** The part of a DAP message this looks at. */
export type DapMessage = { type?: string; event?: string; command?: string; success?: boolean };

export function pausedBy(message: DapMessage): boolean | undefined {
  if (message.type !== 'event') return undefined;
  if (message.event === 'stopped') return true;
  if (message.event === 'continued') return false;
  return undefined;
}
