// Every receiver kotel knows. Adding one = one entry here (plus its bpf/ and src/receivers/ dirs).
import type { ReceiverFactory } from './receiver.ts';
import { syscallsReceiver } from './syscalls/syscalls.ts';
import { blockioReceiver } from './blockio/blockio.ts';
import { iouringReceiver } from './iouring/iouring.ts';
import { httpReceiver } from './http/http.ts';
import { processReceiver } from './process/process.ts';
import { tcpReceiver } from './tcp/tcp.ts';
import { cgroupsReceiver } from './cgroups/cgroups.ts';

export const RECEIVERS: ReadonlyArray<ReceiverFactory<never>> = [syscallsReceiver as ReceiverFactory<never>, blockioReceiver as ReceiverFactory<never>, iouringReceiver as ReceiverFactory<never>, httpReceiver as ReceiverFactory<never>, processReceiver as ReceiverFactory<never>, tcpReceiver as ReceiverFactory<never>, cgroupsReceiver as ReceiverFactory<never>];

export function receiverFactory(type: string): ReceiverFactory<never> | undefined {
  return RECEIVERS.find((r) => r.type === type);
}

export function receiverTypes(): Record<string, { schema: object; signals: Array<'logs' | 'metrics' | 'traces'> }> {
  return Object.fromEntries(RECEIVERS.map((r) => [r.type, { schema: r.schema, signals: r.signals }]));
}
