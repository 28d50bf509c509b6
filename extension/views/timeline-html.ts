/**
 * The timeline as HTML: lanes of positioned bars and markers over a time axis. Every piece has
 * its words on it — a `title` for the pointer, an `aria-label` for a screen reader — and every
 * colour is a theme variable, so it reads in light, dark and high-contrast themes alike. Pure:
 * the panel (timeline-panel.ts) puts the string into its webview.
 */
import { duration } from './describe';
import { shownMs, timeScale } from './timeline-scale';
import type { Lane, TimelineView } from './timeline-view';

/** Axis ticks aimed at: the step is rounded to 1, 2 or 5 × a power of ten. */
const TICKS = 8;

export function timelineHtml(view: TimelineView): string {
  const scale = timeScale(view.start, view.end, view.breaks);
  const percent = (fraction: number) => `${(fraction * 100).toFixed(3)}%`;
  const x = (at: number): string => percent(scale(at));
  // A bar still open (a worker serving on) is cut at the right edge (the scale clamps).
  const w = (from: number, to: number): string => percent(Math.max(scale(to) - scale(from), 0));
  const breaks = view.breaks
    .map((quiet) => {
      const text = `${duration(quiet.to - quiet.from)} in which nothing changed, drawn narrow`;
      return `<div class="break" role="img" style="left:${x(quiet.from)};width:${w(quiet.from, quiet.to)}" title="${esc(text)}" aria-label="${esc(text)}"></div>`;
    })
    .join('');
  const at = (ms: number): string => `+${duration(Math.max(ms - view.start, 0))}`;
  const takeovers = view.takeovers
    .map(
      (takeover) =>
        `<div class="takeover" role="img" style="left:${x(takeover.at)}" title="${esc(`${at(takeover.at)}: ${takeover.text}`)}" aria-label="${esc(`${at(takeover.at)}: ${takeover.text}`)}"></div>`,
    )
    .join('');
  const lane = (row: Lane): string => {
    const depth = Math.max(0, ...row.hooks.map((hook) => hook.depth + 1));
    const states = row.states
      .map((bar) => {
        const text = `${bar.text}, from ${at(bar.from)}`;
        return `<div class="bar state-${bar.state}${bar.open ? ' open' : ''}" role="img" style="left:${x(bar.from)};width:${w(bar.from, bar.to)}" title="${esc(text)}" aria-label="${esc(text)}"></div>`;
      })
      .join('');
    const hooks = row.hooks
      .map((hook) => {
        const text = `${hook.text}, from ${at(hook.from)}`;
        return `<div class="hook outcome-${hook.outcome}" role="img" style="left:${x(hook.from)};width:${w(hook.from, hook.to)};top:calc(var(--bar) + ${hook.depth} * var(--hook))" title="${esc(text)}" aria-label="${esc(text)}"><span>${esc(hook.name)}</span></div>`;
      })
      .join('');
    const markers = row.markers
      .map((marker) => {
        const beyond = marker.at > view.end;
        const text = `${at(marker.at)}: ${marker.text}${beyond ? ', past the right edge' : ''}`;
        const left = beyond ? '100%' : x(marker.at);
        return `<div class="marker ${marker.kind}${beyond ? ' beyond' : ''}" role="img" style="left:${left}" title="${esc(text)}" aria-label="${esc(text)}"></div>`;
      })
      .join('');
    const held = row.held.length
      ? `<ul class="held" aria-label="what it held">${row.held.map((line) => `<li class="${line.leak ? 'leak' : 'closed'}">${esc(line.text)}</li>`).join('')}</ul>`
      : '';
    return `<li class="lane gen-${row.generation % 2 ? 'odd' : 'even'}" role="group" aria-label="${esc(row.summary)}" data-key="${esc(row.key)}"><div class="lane-title">${esc(row.title)}</div><div class="track" style="height:calc(var(--bar) + ${depth} * var(--hook))">${takeovers}${states}${hooks}${markers}${breaks}</div>${held}</li>`;
  };
  const { ticks: tickTimes, step } = axisTicks(view);
  const ticks = tickTimes
    .map(
      (tick) => `<span class="tick" style="left:${x(tick)}">${esc(tickText(tick - view.start, step))}</span>`,
    )
    .join('');
  const quiet = view.breaks.length
    ? ` (${duration(view.end - view.start - shownMs(view.start, view.end, view.breaks))} in which nothing changed drawn narrow)`
    : '';
  const body = view.empty
    ? `<p class="empty">${esc(view.empty)}</p>`
    : `<div class="axis" aria-hidden="true"><div class="lane-title"></div><div class="ticks">${ticks}${breaks}</div></div><ol class="lanes">${view.lanes.map(lane).join('')}</ol>`;
  const legend = LEGEND.map(([cls, text]) => `<li><span class="swatch ${cls}"></span>${text}</li>`).join('');
  return `<h1>${esc(view.title)}</h1><p class="range">${esc(`${duration(view.end - view.start)} shown${quiet}; ${view.lanes.length} worker(s); ${view.takeovers.length} takeover(s)`)}</p>${body}<ul class="legend" aria-label="legend">${legend}</ul>`;
}

const LEGEND: [string, string][] = [
  ['state-booting', 'booting'],
  ['state-ready', 'ready'],
  ['state-draining', 'draining'],
  ['outcome-ok', 'hook ok'],
  ['outcome-running', 'hook running'],
  ['outcome-error', 'hook failed, timed out or cut short'],
  ['signal', 'signal'],
  ['deadline', 'kill deadline'],
  ['takeover', 'new generation took over'],
];

/** A tick's label, as fine as its step: "+350 ms", "+1.4 s", "+61 s". */
function tickText(ms: number, step: number): string {
  if (ms === 0) return '+0';
  if (step < 1000 && ms < 1000) return `+${Math.round(ms)} ms`;
  return `+${(ms / 1000).toFixed(step < 1000 ? 1 : 0)} s`;
}

/** Ticks at a round step of the time shown at full scale; none inside a break. */
function axisTicks({ start, end, breaks }: TimelineView): { ticks: number[]; step: number } {
  const raw = shownMs(start, end, breaks) / TICKS;
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let ms = 0; start + ms <= end; ms += step) {
    const t = start + ms;
    if (!breaks.some((quiet) => t > quiet.from - step / 2 && t < quiet.to + step / 2)) ticks.push(t);
  }
  return { ticks, step };
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's style: positions in the markup, colours from the theme. */
export const TIMELINE_CSS = `
:root { --bar: 14px; --hook: 16px; }
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px 16px; }
h1 { font-size: 1.2em; margin: 0.4em 0; }
.range, .empty { color: var(--vscode-descriptionForeground); }
.axis, .lane { display: grid; grid-template-columns: 11em 1fr; column-gap: 8px; }
.ticks { position: relative; height: 1.4em; border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-foreground)); }
.tick { position: absolute; transform: translateX(-50%); font-size: 0.85em; color: var(--vscode-descriptionForeground); white-space: nowrap; }
ol.lanes { list-style: none; margin: 0; padding: 0; }
.lane { padding: 6px 0; border-bottom: 1px solid var(--vscode-widget-border, transparent); }
.lane.gen-even { background: var(--vscode-editor-inactiveSelectionBackground, transparent); }
.lane-title { font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.track { position: relative; min-height: var(--bar); }
.bar { position: absolute; top: 0; height: calc(var(--bar) - 2px); border-radius: 2px; min-width: 2px; }
.bar.open { border-right: 2px dashed var(--vscode-foreground); }
.state-booting { background: var(--vscode-charts-blue); }
.state-ready { background: var(--vscode-charts-green); }
.state-draining { background: var(--vscode-charts-orange); }
/* A hook is outlined in its outcome's colour and filled faintly, so its name reads in any theme. */
.hook { position: absolute; box-sizing: border-box; height: calc(var(--hook) - 3px); border: 1px solid var(--outcome); background: color-mix(in srgb, var(--outcome) 30%, transparent); border-radius: 2px; min-width: 2px; overflow: hidden; font-size: 0.8em; line-height: calc(var(--hook) - 5px); white-space: nowrap; }
.hook span { padding: 0 3px; }
.outcome-ok { --outcome: var(--vscode-testing-iconPassed, var(--vscode-charts-green)); }
.outcome-running { --outcome: var(--vscode-charts-yellow); }
.outcome-error, .outcome-timeout, .outcome-killed, .outcome-interrupted { --outcome: var(--vscode-testing-iconFailed, var(--vscode-charts-red)); }
.swatch[class*='outcome-'] { border: 1px solid var(--outcome); background: color-mix(in srgb, var(--outcome) 30%, transparent); box-sizing: border-box; }
.marker { position: absolute; top: -3px; bottom: -3px; width: 0; }
.marker.signal { border-left: 2px solid var(--vscode-charts-purple); }
.marker.signal::before { content: ''; position: absolute; top: -4px; left: -6px; border: 5px solid transparent; border-top-color: var(--vscode-charts-purple); }
.marker.deadline { border-left: 2px dashed var(--vscode-charts-red); }
.marker.beyond::after { content: '→'; position: absolute; left: 2px; top: -2px; color: var(--vscode-charts-red); }
.marker.end { border-left: 2px solid var(--vscode-foreground); }
.track .takeover { position: absolute; top: -6px; bottom: -6px; border-left: 2px dotted var(--vscode-focusBorder); }
.break { position: absolute; top: -6px; bottom: -6px; background: repeating-linear-gradient(135deg, var(--vscode-editor-background) 0 3px, transparent 3px 6px); border-left: 1px solid var(--vscode-descriptionForeground); border-right: 1px solid var(--vscode-descriptionForeground); opacity: 0.85; }
.held { grid-column: 2; margin: 4px 0 0; padding-left: 1.2em; font-size: 0.9em; }
.held .leak { color: var(--vscode-errorForeground); }
.held .closed { color: var(--vscode-descriptionForeground); }
.legend { list-style: none; padding: 0; margin-top: 1em; display: flex; flex-wrap: wrap; gap: 4px 16px; color: var(--vscode-descriptionForeground); }
.swatch { display: inline-block; width: 1em; height: 0.8em; margin-right: 4px; vertical-align: middle; }
.swatch.signal { border-left: 2px solid var(--vscode-charts-purple); width: 0; }
.swatch.deadline { border-left: 2px dashed var(--vscode-charts-red); width: 0; }
.swatch.takeover { border-left: 2px dotted var(--vscode-focusBorder); width: 0; }
`;
