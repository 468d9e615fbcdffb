import assert from 'node:assert/strict';
import { cgroup2Root } from '../../src/pipeline/cgroups.ts';

describe('pipeline: cgroup v2 root', () => {
  it('finds the v2 tree on unified and hybrid hosts', () => {
    assert.equal(cgroup2Root('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n'), '/sys/fs/cgroup');
    const hybrid = 'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
    assert.equal(cgroup2Root(hybrid), '/sys/fs/cgroup/unified');
    assert.equal(cgroup2Root('proc /proc proc rw 0 0\n'), undefined);
  });
});
