// The in-kernel cgroup filter: only processes in the configured cgroup v2 path are reported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { OtlpReceiver, latestSum } from '../support/otlp-receiver.ts';
import { cgroup2Root } from '../../src/pipeline/cgroups.ts';
import { startAgent, otlpConfig } from './helpers/agent.ts';
import { failBinary, runFailures } from './helpers/workload.ts';

describe('e2e: syscalls cgroup filter', function () {
  this.timeout(60_000);

  it('reports the failures of processes in the filtered cgroup and no others', async () => {
    const root = cgroup2Root();
    assert.ok(root, 'this host mounts a cgroup v2 tree');
    const name = `kotel-e2e-${process.pid}`;
    mkdirSync(join(root, name));
    const rx = await OtlpReceiver.start({ httpPort: null });
    const agent = await startAgent(otlpConfig(rx.grpcEndpoint, `{ filters: { cgroups: [/${name}] } }`));
    try {
      // Inside: a shell moves itself into the cgroup, then becomes the workload.
      const inside = spawn('sh', ['-c', `echo $$ > ${join(root, name, 'cgroup.procs')} && exec ${failBinary()} econnrefused 4 1`], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      inside.stdout!.on('data', (d) => { out += d; });
      while (!out.includes('\n')) await once(inside.stdout!, 'data');
      const insidePid = Number(out.trim().split(' ')[1]);
      const outside = await runFailures('econnrefused', 6, '1');
      await rx.waitFor(() => latestSum(rx.metrics(), 'linux.syscall.errors', { 'error.type': 'ECONNREFUSED' }, { resource: { 'process.pid': insidePid } }) === 4,
        { timeoutMs: 15_000, what: 'the 4 failures inside the cgroup' });
      // One more export interval: the outside process must still be absent.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(rx.logs().filter((l) => l.resource['process.pid'] === outside.pid).length, 0);
      assert.equal(latestSum(rx.metrics(), 'linux.syscall.errors', {}, { resource: { 'process.pid': outside.pid } }), undefined);
      inside.stdin!.end('\n');
      await once(inside, 'exit');
      await outside.release();
    } finally {
      assert.equal(await agent.stop(), 0);
      await rx.stop();
      rmdirSync(join(root, name));
    }
  });
});
