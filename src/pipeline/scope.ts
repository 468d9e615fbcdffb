// The instrumentation scope of everything kotel emits: kotel's receivers are the instrumentation.
import { readFileSync } from 'node:fs';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const KOTEL_VERSION = version;

export function receiverScope(receiverType: string) {
  return { name: `kotel/receiver/${receiverType}`, version };
}

export const SELF_SCOPE = { name: 'kotel', version };
