// A failed syscall as an OpenTelemetry log record: readable body, severity by errno class,
// attributes by the semantic conventions (linux.syscall.* where none exists).
import { TraceFlags, type Attributes, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  ATTR_ERROR_TYPE, ATTR_FILE_PATH, ATTR_LINUX_CGROUP_ID, ATTR_LINUX_SYSCALL_CATEGORY, ATTR_LINUX_SYSCALL_FD,
  ATTR_LINUX_SYSCALL_NAME, ATTR_LINUX_SYSCALL_OCCURRENCES, ATTR_LINUX_SYSCALL_SIZE, ATTR_NETWORK_LOCAL_ADDRESS,
  ATTR_NETWORK_LOCAL_PORT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_THREAD_ID,
} from '../../semconv/attributes.ts';
import { errnoName, errnoText } from '../../semconv/errno.ts';
import { receiverScope } from '../../pipeline/scope.ts';
import type { SyscallFailure } from './decode.ts';
import { SyscallArgKind } from './syscalls.layout.ts';
import { severityOf } from './severity.ts';
import { CATEGORIES, type Category } from './watchlist.ts';

const SCOPE = receiverScope('syscalls');

export function categoryName(n: number): Category {
  return CATEGORIES[n] ?? 'other';
}

function context(ev: SyscallFailure, attrs: Attributes): string {
  switch (ev.argKind) {
    case SyscallArgKind.SYSCALL_ARG_PATH:
      if (!ev.path) return '';
      attrs[ATTR_FILE_PATH] = ev.path;
      return JSON.stringify(ev.path);
    case SyscallArgKind.SYSCALL_ARG_PEER_SOCKADDR:
      if (!ev.address) return '';
      attrs[ATTR_SERVER_ADDRESS] = ev.address;
      attrs[ATTR_SERVER_PORT] = ev.port;
      return ev.address.includes(':') ? `[${ev.address}]:${ev.port}` : `${ev.address}:${ev.port}`;
    case SyscallArgKind.SYSCALL_ARG_LOCAL_SOCKADDR:
      if (!ev.address) return '';
      attrs[ATTR_NETWORK_LOCAL_ADDRESS] = ev.address;
      attrs[ATTR_NETWORK_LOCAL_PORT] = ev.port;
      return ev.address.includes(':') ? `[${ev.address}]:${ev.port}` : `${ev.address}:${ev.port}`;
    case SyscallArgKind.SYSCALL_ARG_SIZE:
      attrs[ATTR_LINUX_SYSCALL_SIZE] = Number(ev.argValue);
      return `${ev.argValue} bytes`;
    case SyscallArgKind.SYSCALL_ARG_FD:
      attrs[ATTR_LINUX_SYSCALL_FD] = Number(ev.argValue);
      return `fd ${ev.argValue}`;
    default:
      return '';
  }
}

export interface FailureRecordInput {
  syscall: string;
  failure: SyscallFailure;
  occurrences: number;
  time: HrTime;
  observed: HrTime;
  resource: Resource;
}

export function failureLogRecord({ syscall, failure, occurrences, time, observed, resource }: FailureRecordInput): ReadableLogRecord {
  const name = errnoName(failure.errno);
  const category = categoryName(failure.category);
  const severity = severityOf(name, category);
  const attributes: Attributes = {
    [ATTR_LINUX_SYSCALL_NAME]: syscall,
    [ATTR_ERROR_TYPE]: name,
    [ATTR_LINUX_SYSCALL_OCCURRENCES]: occurrences,
    [ATTR_LINUX_SYSCALL_CATEGORY]: category,
    [ATTR_THREAD_ID]: failure.tid,
  };
  if (failure.cgroupId) attributes[ATTR_LINUX_CGROUP_ID] = failure.cgroupId.toString();
  const args = context(failure, attributes);
  const times = occurrences > 1 ? ` (${occurrences} times)` : '';
  // Several occurrences may span several requests: only a single failure names its request.
  const spanContext = failure.traceId && failure.spanId && occurrences === 1
    ? { traceId: failure.traceId, spanId: failure.spanId, traceFlags: TraceFlags.SAMPLED }
    : undefined;
  return {
    spanContext,
    hrTime: time,
    hrTimeObserved: observed,
    severityNumber: severity.number,
    severityText: severity.text,
    body: `${syscall}(${args}) failed: ${name} (${errnoText(failure.errno)})${times}`,
    resource,
    instrumentationScope: SCOPE,
    attributes,
    droppedAttributesCount: 0,
  };
}
