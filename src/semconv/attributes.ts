// Attribute names used by kotel. Stable names come from @opentelemetry/semantic-conventions;
// incubating ones are copied here (the package advises against importing its incubating
// entry point); names with no convention yet live under `linux.*` or `kotel.*`.
export {
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_NETWORK_LOCAL_ADDRESS,
  ATTR_NETWORK_LOCAL_PORT,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';

// Incubating (semantic-conventions "experimental" attributes).
export const ATTR_PROCESS_PID = 'process.pid';
export const ATTR_PROCESS_PARENT_PID = 'process.parent_pid';
export const ATTR_PROCESS_EXECUTABLE_NAME = 'process.executable.name';
export const ATTR_PROCESS_EXECUTABLE_PATH = 'process.executable.path';
export const ATTR_PROCESS_COMMAND_LINE = 'process.command_line';
export const ATTR_PROCESS_OWNER = 'process.owner';
export const ATTR_HOST_NAME = 'host.name';
export const ATTR_CONTAINER_ID = 'container.id';
export const ATTR_THREAD_ID = 'thread.id';
export const ATTR_FILE_PATH = 'file.path';

// No convention yet: documented in README.md ("Attributes outside the conventions").
export const ATTR_LINUX_SYSCALL_NAME = 'linux.syscall.name';
export const ATTR_LINUX_SYSCALL_CATEGORY = 'linux.syscall.category';
export const ATTR_LINUX_SYSCALL_OCCURRENCES = 'linux.syscall.occurrences';
export const ATTR_LINUX_SYSCALL_FD = 'linux.syscall.fd';
export const ATTR_LINUX_SYSCALL_SIZE = 'linux.syscall.size';
export const ATTR_LINUX_CGROUP_ID = 'linux.cgroup.id';
export const ATTR_KOTEL_RECEIVER = 'kotel.receiver';
export const ATTR_KOTEL_REASON = 'kotel.reason';
export const ATTR_KOTEL_PROGRAM = 'kotel.bpf.program';

export const METRIC_LINUX_SYSCALL_ERRORS = 'linux.syscall.errors';
