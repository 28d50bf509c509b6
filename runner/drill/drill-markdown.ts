/** The drill's report as Markdown: the verdict first, then the figures it rests on. */
import type { DrillReport } from './drill-report';

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);

export function drillMarkdown(report: DrillReport): string {
  const lines: string[] = [];
  const passed = report.problems.length === 0;
  lines.push(`# Shutdown drill: ${report.app}`, '');
  lines.push(
    passed
      ? '**Passed**: nothing was lost or left open.'
      : `**Failed**: ${report.problems.length} problem(s).`,
    '',
  );
  for (const problem of report.problems) lines.push(`- ${problem}`);
  if (!passed) lines.push('');
  const { requests, reloads } = report;
  lines.push(
    `${requests.sent} requests (${requests.ok} answered, ${requests.failed} failed before a stop, ${requests.cut} cut by a kill; ` +
      `${requests.keptAlive} on kept-alive connections, ${requests.retried} of them sent again on a fresh connection after the server closed the kept-alive one under them, as HTTP clients do); ` +
      `${reloads.asked} reloads (${reloads.completed} completed, ${reloads.failed} failed, ${reloads.superseded} superseded); ` +
      `${ms(report.durationMs)} in all; seed ${report.seed} (\`--seed ${report.seed}\` repeats this drill).`,
    '',
  );
  lines.push(
    '## Runs',
    '',
    '| stop | reloads | requests | failed | ended by the stop | cut | exit code | time |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const run of report.runs)
    lines.push(
      `| ${run.label} | ${run.reloads} | ${run.sent} | ${run.failed} | ${run.endedByStop} | ${run.cut} | ${run.exitCode ?? 'killed'} | ${ms(run.durationMs)} |`,
    );
  lines.push(
    '',
    'A request that ended in an error once a stop was given had not reached a worker (or was cut, which the cut column counts). A quick stop does not wait for requests: what it cuts is not counted as lost.',
    '',
  );
  lines.push('## Hooks', '');
  if (report.hooks.length === 0) lines.push('No shutdown hook ran.');
  else {
    lines.push('| hook | runs | outcomes | slowest |', '| --- | ---: | --- | ---: |');
    for (const hook of report.hooks) {
      const outcomes = Object.entries(hook.outcomes)
        .map(([outcome, count]) => `${outcome} ${count}`)
        .join(', ');
      lines.push(`| ${hook.name} | ${hook.runs} | ${outcomes} | ${ms(hook.slowestMs)} |`);
    }
  }
  if (report.slowestHook) {
    const share = Math.round(report.slowestHook.ofGracefulTimeout * 100);
    lines.push(
      '',
      `The slowest hook, ${report.slowestHook.name}, took ${ms(report.slowestHook.ms)}: ${share} % of the graceful timeout (${ms(report.gracefulTimeoutMs)}).`,
    );
  }
  lines.push('', '## Left open at exit or kill', '');
  if (report.leftOpen.length === 0)
    lines.push('Every worker exited with its connections, listeners, children and threads closed.');
  for (const entry of report.leftOpen)
    lines.push(
      `- worker ${entry.worker} (generation ${entry.generation}), at ${entry.at}: ${entry.what.join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}
