// io_uring opcode names (linux.io_uring.opcode), from the generated table.
import { IO_URING_OPCODES } from './io-uring-opcodes.generated.ts';

export function ioUringOpcodeName(opcode: number): string {
  return IO_URING_OPCODES[opcode] ?? `op_${opcode}`;
}
