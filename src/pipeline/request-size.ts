// How many items one OTLP request can carry: gRPC servers refuse messages over 4 MiB by default
// (grpc-go, and so the Collector's and Jaeger's OTLP receivers; measured after decompression). Each
// signal's serializer reports the bytes per item of the requests it writes, and its export queue
// takes no more items than fit under the limit. A request refused all the same is split (export-queue.ts).

/** Bytes one request stays under, with a margin below 4 MiB. */
export const MAX_REQUEST_BYTES = 4_000_000;

export class RequestSizer {
  /** Bytes per item of the last request large enough to tell (a start value until then). */
  bytesPerItem: number;

  constructor(initialBytesPerItem: number) {
    this.bytesPerItem = initialBytesPerItem;
  }

  /** A request of `items` items encoded to `bytes` bytes (small requests say little: ignored). */
  observe(items: number, bytes: number): void {
    if (items >= 16) this.bytesPerItem = Math.min(65_536, Math.max(16, bytes / items));
  }

  /** Items one request can carry (10 % margin for items larger than the average). */
  readonly fitItems = (): number => Math.max(1, Math.floor((MAX_REQUEST_BYTES * 0.9) / this.bytesPerItem));
}

/** Spans (kotel's trace serializer reports). */
export const spanRequests = new RequestSizer(320);

/** Log records (the official log serializer, wrapped: exporters.ts). */
export const logRequests = new RequestSizer(512);
