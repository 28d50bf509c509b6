/**
 * The `arbiter` debug type's configurations: what a new launch.json gets, what F5 does in a
 * folder without one (launch the folder's server and attach to its workers), and the entry the
 * Run view offers without a launch.json.
 */
import * as vscode from 'vscode';

const LAUNCH: vscode.DebugConfiguration = {
  type: 'arbiter',
  request: 'launch',
  name: 'Arbiter: start the server and debug its workers',
};

export function registerDebugConfigurations(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.debug.registerDebugConfigurationProvider('arbiter', {
      provideDebugConfigurations: () => [LAUNCH],
      resolveDebugConfiguration(_folder, configuration) {
        // F5 with no launch.json: an empty configuration.
        if (!configuration.type && !configuration.request && !configuration.name) return { ...LAUNCH };
        return configuration;
      },
    }),
    vscode.debug.registerDebugConfigurationProvider(
      'arbiter',
      { provideDebugConfigurations: () => [LAUNCH] },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
  );
}
