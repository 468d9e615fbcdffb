import assert from 'node:assert/strict';
import { cgroupIdentity, containerIdFromCgroupPath } from '../../src/pipeline/container-id.ts';

const ID = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';
const UID = '0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9';
const UID_ = UID.replace(/-/g, '_');

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

describe('pipeline: cgroup path → container runtime, k8s.pod.uid and QoS class', () => {
  for (const [path, want] of [
    [`/system.slice/docker-${ID}.scope`, { containerId: ID, runtime: 'docker' }],
    [`/docker/${ID}`, { containerId: ID, runtime: 'docker' }],
    [`/machine.slice/libpod-${ID}.scope`, { containerId: ID, runtime: 'podman' }],
    [`/system.slice/containerd/${ID}`, { containerId: ID, runtime: 'containerd' }],
    [`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`,
      { containerId: ID, runtime: 'containerd', podUid: UID, qosClass: 'Burstable' }],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/crio-${ID}.scope`,
      { containerId: ID, runtime: 'cri-o', podUid: UID, qosClass: 'BestEffort' }],
    [`/kubepods.slice/kubepods-pod${UID_}.slice/crio-${ID}.scope`, { containerId: ID, runtime: 'cri-o', podUid: UID, qosClass: 'Guaranteed' }],
    [`/kubepods/burstable/pod${UID}/${ID}`, { containerId: ID, podUid: UID, qosClass: 'Burstable' }],
    [`/kubepods/besteffort/pod${UID}/${ID}`, { containerId: ID, podUid: UID, qosClass: 'BestEffort' }],
    [`/kubepods/pod${UID}/${ID}`, { containerId: ID, podUid: UID, qosClass: 'Guaranteed' }],
    [`/kubepods/burstable/pod${UID}`, { podUid: UID, qosClass: 'Burstable' }],
    // pods named pod… outside kubepods are not pods
    [`/system.slice/pod${UID}.slice`, {}],
    ['/user.slice/user-0.slice/session-1.scope', {}],
  ] as const) {
    it(`${path}`, () => assert.deepEqual(cgroupIdentity(path), want));
  }
});
