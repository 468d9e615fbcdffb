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

// blockio / iouring receivers (incubating names copied; the rest documented in README.md).
export const ATTR_SYSTEM_DEVICE = 'system.device';
export const ATTR_DISK_IO_DIRECTION = 'disk.io.direction';
export const METRIC_SYSTEM_DISK_IO = 'system.disk.io';
export const METRIC_SYSTEM_DISK_OPERATIONS = 'system.disk.operations';
export const METRIC_SYSTEM_DISK_OPERATION_TIME = 'system.disk.operation_time';
export const ATTR_LINUX_BLOCK_OPERATION = 'linux.block.operation';
export const ATTR_LINUX_CGROUP_PATH = 'linux.cgroup.path';
export const METRIC_LINUX_BLOCK_REQUEST_DURATION = 'linux.block.request.duration';
export const METRIC_LINUX_BLOCK_OPERATIONS = 'linux.block.operations';
export const METRIC_LINUX_BLOCK_OPERATION_TIME = 'linux.block.operation_time';
export const METRIC_LINUX_BLOCK_QUEUE_TIME = 'linux.block.queue_time';
export const METRIC_LINUX_BLOCK_ERRORS = 'linux.block.errors';
export const ATTR_LINUX_IO_URING_OPCODE = 'linux.io_uring.opcode';
export const METRIC_LINUX_IO_URING_REQUEST_DURATION = 'linux.io_uring.request.duration';
export const METRIC_LINUX_IO_URING_ERRORS = 'linux.io_uring.errors';
export const METRIC_LINUX_IO_URING_FAILED_REQUESTS = 'linux.io_uring.failed_requests';
export const METRIC_LINUX_IO_URING_CQ_OVERFLOWS = 'linux.io_uring.cq_overflows';
export const METRIC_LINUX_IO_URING_ASYNC_WORK = 'linux.io_uring.async_work';
export const ATTR_LINUX_IO_URING_OCCURRENCES = 'linux.io_uring.occurrences';
/** CQEs that did not end a request: multishot intermediates, zero-copy notifications, others. */
export const METRIC_LINUX_IO_URING_EXTRA_COMPLETIONS = 'linux.io_uring.extra_completions';
export const ATTR_LINUX_IO_URING_COMPLETION_KIND = 'linux.io_uring.completion.kind';

// http receiver: stable HTTP names; body-size metrics are incubating (copied).
export {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_URL_FULL,
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_USER_AGENT_ORIGINAL,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';
export const METRIC_HTTP_SERVER_REQUEST_BODY_SIZE = 'http.server.request.body.size';
export const METRIC_HTTP_SERVER_RESPONSE_BODY_SIZE = 'http.server.response.body.size';
export const METRIC_HTTP_CLIENT_REQUEST_BODY_SIZE = 'http.client.request.body.size';
export const METRIC_HTTP_CLIENT_RESPONSE_BODY_SIZE = 'http.client.response.body.size';

// process / tcp / cgroups receivers and resource identity (incubating names copied; the rest documented in README.md).
export const ATTR_PROCESS_CREATION_TIME = 'process.creation.time';
export const ATTR_PROCESS_EXIT_CODE = 'process.exit.code';
export const ATTR_PROCESS_EXIT_TIME = 'process.exit.time';
export const ATTR_CONTAINER_NAME = 'container.name';
export const ATTR_CONTAINER_RUNTIME_NAME = 'container.runtime.name';
export const ATTR_K8S_POD_UID = 'k8s.pod.uid';
export const ATTR_K8S_POD_NAME = 'k8s.pod.name';
export const ATTR_K8S_NAMESPACE_NAME = 'k8s.namespace.name';
export const ATTR_K8S_CONTAINER_NAME = 'k8s.container.name';
export const ATTR_K8S_NODE_NAME = 'k8s.node.name';
export const ATTR_SERVICE_NAMESPACE = 'service.namespace';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
export const ATTR_NETWORK_IO_DIRECTION = 'network.io.direction';
export const ATTR_CPU_MODE = 'cpu.mode';
export const METRIC_PROCESS_NETWORK_IO = 'process.network.io';
export const METRIC_CONTAINER_CPU_TIME = 'container.cpu.time';
export const METRIC_CONTAINER_MEMORY_USAGE = 'container.memory.usage';
export const METRIC_CONTAINER_MEMORY_RSS = 'container.memory.rss';
export const METRIC_CONTAINER_MEMORY_WORKING_SET = 'container.memory.working_set';
export const METRIC_CONTAINER_PAGING_FAULTS = 'container.paging.faults';
export const ATTR_SYSTEM_PAGING_FAULT_TYPE = 'system.paging.fault.type';
export const ATTR_KOTEL_K8S_POD_QOS_CLASS = 'kotel.k8s.pod.qos_class';
export const ATTR_LINUX_PROCESS_SIGNAL = 'linux.process.signal';
export const ATTR_LINUX_PROCESS_EXIT_KIND = 'linux.process.exit.kind';
export const ATTR_LINUX_TCP_DIRECTION = 'linux.tcp.direction';
export const ATTR_LINUX_TCP_PEER_FOLDED = 'linux.tcp.peer.folded';
export const ATTR_LINUX_TCP_RESET_DIRECTION = 'linux.tcp.reset.direction';
export const ATTR_LINUX_CGROUP_MEMORY_TYPE = 'linux.cgroup.memory.type';
export const ATTR_LINUX_PRESSURE_RESOURCE = 'linux.pressure.resource';
export const ATTR_LINUX_PRESSURE_LEVEL = 'linux.pressure.level';
export const ATTR_LINUX_CGROUP_VERSION = 'linux.cgroup.version';
export const METRIC_LINUX_PROCESS_LIFETIME = 'linux.process.lifetime';
export const METRIC_LINUX_PROCESS_EXECS = 'linux.process.execs';
export const METRIC_LINUX_PROCESS_EXITS = 'linux.process.exits';
export const METRIC_LINUX_TCP_CONNECTIONS = 'linux.tcp.connections';
export const METRIC_LINUX_TCP_CONNECT_DURATION = 'linux.tcp.connect.duration';
export const METRIC_LINUX_TCP_CONNECT_FAILURES = 'linux.tcp.connect.failures';
export const METRIC_LINUX_TCP_CONNECTION_DURATION = 'linux.tcp.connection.duration';
export const METRIC_LINUX_TCP_RETRANSMITS = 'linux.tcp.retransmits';
export const METRIC_LINUX_TCP_RESETS = 'linux.tcp.resets';
export const METRIC_LINUX_CGROUP_CPU_THROTTLED_PERIODS = 'linux.cgroup.cpu.throttled_periods';
export const METRIC_LINUX_CGROUP_CPU_THROTTLED_TIME = 'linux.cgroup.cpu.throttled_time';
export const METRIC_LINUX_CGROUP_MEMORY_STAT = 'linux.cgroup.memory.stat';
export const METRIC_LINUX_CGROUP_PRESSURE_STALL_TIME = 'linux.cgroup.pressure.stall_time';
