import assert from 'node:assert/strict';
import { containerIdFromCgroupPath } from '../../src/pipeline/container-id.ts';

const ID = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';

describe('pipeline: container.id from cgroup paths', () => {
  for (const [path, want] of [
    [`/system.slice/docker-${ID}.scope`, ID],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-${ID}.scope`, ID],
    [`/kubepods.slice/kubepods-pod1234.slice/crio-${ID}.scope`, ID],
    [`/machine.slice/libpod-${ID}.scope`, ID],
    [`/docker/${ID}`, ID],
    [`/kubepods/burstable/pod0f1e/${ID}`, ID],
    ['/user.slice/user-0.slice/session-1.scope', undefined],
    ['/', undefined],
  ] as const) {
    it(`${path} → ${want ?? 'none'}`, () => assert.equal(containerIdFromCgroupPath(path), want));
  }
});
