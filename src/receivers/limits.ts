// Map sizes that bound what a kernel-aggregating receiver can keep exactly (limits.* settings):
// the in-flight table (requests between start and end), the series (histogram keys) and the
// error keys. When one is full the receiver counts what it could not keep (kotel.receiver.dropped)
// instead of failing silently; raise the limit the drop reason names.

export interface MapLimits { in_flight: number; series: number; errors: number }

export function limitsSchema(defaults: MapLimits) {
  return {
    description: 'Sizes of the kernel maps; what does not fit is counted in kotel.receiver.dropped.',
    type: 'object', additionalProperties: false, default: {},
    properties: {
      in_flight: {
        description: 'Requests tracked between start and completion (rounded up to a power of two; 2-way set associative). ' +
          'When both candidate slots are taken the older request is evicted and counted.',
        type: 'integer', minimum: 2, maximum: 1 << 22, default: defaults.in_flight,
      },
      series: {
        description: 'Distinct histogram series kept in the kernel; beyond, completions are counted as map_full drops.',
        type: 'integer', minimum: 1, maximum: 1 << 20, default: defaults.series,
      },
      errors: {
        description: 'Distinct error keys kept in the kernel; beyond, errors are counted as map_full drops.',
        type: 'integer', minimum: 1, maximum: 1 << 20, default: defaults.errors,
      },
    },
  } as const;
}

/** The in-flight table's slot count (a power of two ≥ n) and its index mask for the BPF side. */
export function inflightSlots(n: number): { slots: number; mask: number } {
  let slots = 2;
  while (slots < n) slots *= 2;
  return { slots, mask: slots - 1 };
}
