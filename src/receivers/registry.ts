// Every receiver kotel knows. Adding one = one entry here (plus its bpf/ and src/receivers/ dirs).
import type { ReceiverFactory } from './receiver.ts';
import { syscallsReceiver } from './syscalls/syscalls.ts';

export const RECEIVERS: ReadonlyArray<ReceiverFactory<never>> = [syscallsReceiver as ReceiverFactory<never>];

export function receiverFactory(type: string): ReceiverFactory<never> | undefined {
  return RECEIVERS.find((r) => r.type === type);
}

export function receiverTypes(): Record<string, { schema: object; signals: Array<'logs' | 'metrics' | 'traces'> }> {
  return Object.fromEntries(RECEIVERS.map((r) => [r.type, { schema: r.schema, signals: r.signals }]));
}
