// Reads struct layouts and enums out of a BPF object's BTF (via `bpftool btf dump -j`), so
// the TypeScript decoders use the offsets the compiler chose instead of retyped numbers.
import { execFileSync } from 'node:child_process';

interface BtfMember { name: string; type_id: number; bits_offset: number }
interface BtfType {
  id: number; kind: string; name?: string; size?: number; type_id?: number;
  members?: BtfMember[]; values?: Array<{ name: string; val: number }>;
  nr_elems?: number;
}

export interface FieldLayout { offset: number; size: number }
export interface StructLayout { name: string; size: number; fields: Record<string, FieldLayout> }
export interface EnumLayout { name: string; values: Record<string, number> }

export function readBtf(objectPath: string, bpftool = 'bpftool'): Map<number, BtfType> {
  const out = execFileSync(bpftool, ['btf', 'dump', 'file', objectPath, '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const types = (JSON.parse(out) as { types: BtfType[] }).types;
  return new Map(types.map((t) => [t.id, t]));
}

function typeSize(types: Map<number, BtfType>, id: number): number {
  const t = types.get(id);
  if (!t) throw new Error(`BTF type ${id} is missing`);
  switch (t.kind) {
    case 'INT': case 'STRUCT': case 'UNION': case 'ENUM': case 'ENUM64': return t.size!;
    case 'PTR': return 8;
    case 'ARRAY': return (t.nr_elems ?? 0) * typeSize(types, t.type_id!);
    case 'TYPEDEF': case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPE_TAG': return typeSize(types, t.type_id!);
    default: throw new Error(`BTF type ${id} has kind ${t.kind}, which has no size`);
  }
}

export function structLayout(types: Map<number, BtfType>, name: string): StructLayout {
  const t = [...types.values()].find((x) => x.kind === 'STRUCT' && x.name === name);
  if (!t) throw new Error(`struct ${name} is not in the object's BTF (export it with KOTEL_EXPORT_TYPE)`);
  const fields: Record<string, FieldLayout> = {};
  for (const m of t.members ?? []) {
    if (m.bits_offset % 8 !== 0) throw new Error(`struct ${name}.${m.name} is a bitfield; shared layouts must be byte-aligned`);
    fields[m.name] = { offset: m.bits_offset / 8, size: typeSize(types, m.type_id) };
  }
  return { name, size: t.size!, fields };
}

export function enumLayout(types: Map<number, BtfType>, name: string): EnumLayout {
  const t = [...types.values()].find((x) => (x.kind === 'ENUM' || x.kind === 'ENUM64') && x.name === name);
  if (!t) throw new Error(`enum ${name} is not in the object's BTF (export it with KOTEL_EXPORT_TYPE)`);
  return { name, values: Object.fromEntries((t.values ?? []).map((v) => [v.name, v.val])) };
}
