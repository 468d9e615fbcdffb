// A separate-process OTLP/gRPC receiver for bench/http-pipeline.ts: prints its endpoint, then
// the span count whenever a line arrives on stdin.
import { OtlpReceiver } from '../../test/support/otlp-receiver.ts';

const rx = await OtlpReceiver.start({ httpPort: null });
console.log(`endpoint ${rx.grpcEndpoint}`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => console.log(`spans ${rx.spans().length}`));
process.stdin.on('end', () => { void rx.stop().then(() => process.exit(0)); });
