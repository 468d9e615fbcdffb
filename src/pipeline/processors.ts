// The processors kotel applies between receivers and exporters (Collector semantics).
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { AttributeValue } from '@opentelemetry/api';
import type { ProcessorConfig } from '../config/index.ts';
import type { ExportQueueOptions } from './export-queue.ts';

interface ResourceAction { key: string; value?: AttributeValue; action: 'insert' | 'update' | 'upsert' | 'delete' }

/** The `resource` processors of a pipeline as one function, memoised per input resource. */
export function resourceTransform(processors: ProcessorConfig[]): ((r: Resource) => Resource) | undefined {
  const actions = processors.filter((p) => p.type === 'resource')
    .flatMap((p) => (p.settings.attributes ?? []) as ResourceAction[]);
  if (!actions.length) return undefined;
  const memo = new WeakMap<Resource, Resource>();
  return (r) => {
    let out = memo.get(r);
    if (out) return out;
    const attrs = { ...r.attributes };
    for (const a of actions) {
      const has = a.key in attrs;
      if (a.action === 'delete') delete attrs[a.key];
      else if (a.action === 'upsert' || (a.action === 'insert' && !has) || (a.action === 'update' && has)) attrs[a.key] = a.value;
    }
    out = resourceFromAttributes(attrs);
    memo.set(r, out);
    return out;
  };
}

/** The batch processor's defaults, the Collector's: 8192 items or 200 ms (the config schema fills the same). */
export const BATCH_DEFAULTS = { timeoutMs: 200, sendBatchSize: 8192 } as const;

/** The `batch` processor's settings as export-queue options (defaults when absent; send_batch_max_size 0: no limit). */
export function queueOptions(processors: ProcessorConfig[], queueSize: number, timeoutMs: number, retry?: ExportQueueOptions['retry'],
  fitItems?: ExportQueueOptions['fitItems']): ExportQueueOptions {
  const batch = processors.find((p) => p.type === 'batch')?.settings as
    { timeoutMs?: number; sendBatchSize?: number; sendBatchMaxSize?: number } | undefined;
  const batchSize = batch?.sendBatchSize || BATCH_DEFAULTS.sendBatchSize;
  const maxSize = batch?.sendBatchMaxSize ?? batchSize;
  return {
    maxQueueSize: queueSize || batchSize,   // a disabled sending queue holds the batch being assembled, no more
    batchSize,
    maxBatchSize: maxSize === 0 ? Infinity : Math.max(maxSize, batchSize),
    delayMs: batch?.timeoutMs ?? BATCH_DEFAULTS.timeoutMs,
    exportTimeoutMs: timeoutMs,
    retry,
    fitItems,
  };
}
