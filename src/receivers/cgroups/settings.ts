// Settings of the cgroups receiver and their JSON Schema (defaults applied by the loader).
export interface CgroupsSettings {
  containers: boolean;
  include: string[];
  exclude: string[];
  max_cgroups: number;
  scan_proc: boolean;
  memory_stat: string[];
}

/** systemd services directly under system.slice (their own cgroup, e.g. /system.slice/nginx.service). */
export const DEFAULT_INCLUDE = ['^/system\\.slice/[^/]+\\.service$'];

/** memory.stat fields (cgroup v2 names; v1 names are mapped) exported as linux.cgroup.memory.stat. */
export const DEFAULT_MEMORY_STAT = ['anon', 'file', 'kernel', 'kernel_stack', 'pagetables', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'slab', 'active_anon', 'inactive_anon', 'active_file', 'inactive_file'];

export const cgroupsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    containers: { description: 'Export the cgroups that map to a container.id or a k8s.pod.uid.', type: 'boolean', default: true },
    include: {
      description: 'Also export cgroups whose path matches one of these regular expressions (the default takes systemd services under system.slice).',
      type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_INCLUDE,
    },
    exclude: { description: 'Never export cgroups whose path matches one of these regular expressions.', type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    max_cgroups: { description: 'Bound on exported cgroups; further ones are left out and counted in kotel.cgroups.folded.', type: 'integer', minimum: 1, maximum: 100000, default: 500 },
    scan_proc: { description: 'Read processes the process table does not know yet from /proc at each collection (without the process receiver, the only way new workloads are found).', type: 'boolean', default: true },
    memory_stat: { description: 'memory.stat fields (cgroup v2 names) exported as linux.cgroup.memory.stat.', type: 'array', items: { type: 'string', minLength: 1 }, default: DEFAULT_MEMORY_STAT },
  },
} as const;

export function withDefaults(s: Partial<CgroupsSettings>): CgroupsSettings {
  return {
    containers: s.containers ?? true,
    include: s.include ?? DEFAULT_INCLUDE,
    exclude: s.exclude ?? [],
    max_cgroups: s.max_cgroups ?? 500,
    scan_proc: s.scan_proc ?? true,
    memory_stat: s.memory_stat ?? DEFAULT_MEMORY_STAT,
  };
}
