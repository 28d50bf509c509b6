/**
 * A boot profile in one line, as the log and the editor's tree both say it:
 * "live in 96 ms: batch 20 · build 8 · standby 1 · deps warm (412 modules) · your code 61 · listen 12".
 */
import type { BootProfile, DepsProfile } from './events';

const ms = (value: number) => String(Math.round(value));

function depsText(deps: DepsProfile): string {
  const modules = deps.modules !== undefined ? ` (${deps.modules} modules)` : '';
  if (deps.warm) return `deps warm${modules}${deps.ms ? ` + ${ms(deps.ms)} cold` : ''}`;
  // Not told apart (ES modules): their time is inside "your code".
  return deps.ms === undefined ? `deps in your code${modules}` : `deps ${ms(deps.ms)}${modules}`;
}

export function describeBootProfile(profile: BootProfile): string {
  const parts: string[] = [];
  if (profile.batchMs !== undefined) parts.push(`batch ${ms(profile.batchMs)}`);
  if (profile.buildMs !== undefined) {
    const swc = profile.transformed !== undefined ? ` (${profile.transformed} transformed)` : '';
    parts.push(`build ${ms(profile.buildMs)}${swc}`);
  }
  parts.push(`${profile.process.warm ? 'standby' : 'process start'} ${ms(profile.process.ms)}`);
  if (profile.deps) parts.push(depsText(profile.deps));
  if (profile.codeMs !== undefined) parts.push(`your code ${ms(profile.codeMs)}`);
  if (profile.listenMs !== undefined) parts.push(`listen ${ms(profile.listenMs)}`);
  return `live in ${ms(profile.liveMs)} ms: ${parts.join(' · ')}`;
}
