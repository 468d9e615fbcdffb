// BTF queries: kernel type existence and struct layouts (kernel or object file),
// used to pick tracepoint argument shapes and to check TS decoders against C.
#include <string.h>

#include <mutex>

#include "common.h"

namespace kotel {

static std::mutex g_btfMu;
static btf* g_vmlinux = nullptr;
static int g_vmlinuxErr = 0;

// Cached for the process: vmlinux BTF is several MB and never changes.
static btf* VmlinuxBtf(int* err) {
  std::lock_guard<std::mutex> lk(g_btfMu);
  if (!g_vmlinux && !g_vmlinuxErr) {
    LogCapture cap;
    LogScope scope(&cap);
    errno = 0;
    g_vmlinux = btf__load_vmlinux_btf();
    if (!g_vmlinux) g_vmlinuxErr = errno ? errno : ENOENT;
  }
  *err = g_vmlinuxErr;
  return g_vmlinux;
}

static bool KindFromName(const std::string& k, int* out) {
  static const struct {
    const char* name;
    int kind;
  } kinds[] = {
      {"int", BTF_KIND_INT},         {"ptr", BTF_KIND_PTR},         {"array", BTF_KIND_ARRAY},
      {"struct", BTF_KIND_STRUCT},   {"union", BTF_KIND_UNION},     {"enum", BTF_KIND_ENUM},
      {"fwd", BTF_KIND_FWD},         {"typedef", BTF_KIND_TYPEDEF}, {"volatile", BTF_KIND_VOLATILE},
      {"const", BTF_KIND_CONST},     {"restrict", BTF_KIND_RESTRICT}, {"func", BTF_KIND_FUNC},
      {"func_proto", BTF_KIND_FUNC_PROTO}, {"var", BTF_KIND_VAR}, {"datasec", BTF_KIND_DATASEC},
      {"float", BTF_KIND_FLOAT},     {"decl_tag", BTF_KIND_DECL_TAG}, {"type_tag", BTF_KIND_TYPE_TAG},
      {"enum64", BTF_KIND_ENUM64},
  };
  for (const auto& e : kinds)
    if (k == e.name) {
      *out = e.kind;
      return true;
    }
  return false;
}

static const char* KindName(int kind) {
  switch (kind) {
    case BTF_KIND_INT: return "int";
    case BTF_KIND_PTR: return "ptr";
    case BTF_KIND_ARRAY: return "array";
    case BTF_KIND_STRUCT: return "struct";
    case BTF_KIND_UNION: return "union";
    case BTF_KIND_ENUM: return "enum";
    case BTF_KIND_ENUM64: return "enum64";
    case BTF_KIND_FWD: return "fwd";
    case BTF_KIND_TYPEDEF: return "typedef";
    case BTF_KIND_FUNC_PROTO: return "func_proto";
    case BTF_KIND_FLOAT: return "float";
    default: return "other";
  }
}

// Short C-ish type name: "__u32", "struct sock *", "char[16]".
static std::string TypeName(const btf* b, uint32_t id, int depth = 0) {
  if (id == 0) return "void";
  if (depth > 16) return "?";
  const btf_type* t = btf__type_by_id(b, id);
  if (!t) return "?";
  const char* n = btf__name_by_offset(b, t->name_off);
  std::string name = n ? n : "";
  switch (btf_kind(t)) {
    case BTF_KIND_PTR: return TypeName(b, t->type, depth + 1) + " *";
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG: return TypeName(b, t->type, depth + 1);
    case BTF_KIND_ARRAY: {
      const struct btf_array* a = btf_array(t);
      return TypeName(b, a->type, depth + 1) + "[" + std::to_string(a->nelems) + "]";
    }
    case BTF_KIND_STRUCT: return "struct " + (name.empty() ? std::string("(anon)") : name);
    case BTF_KIND_UNION: return "union " + (name.empty() ? std::string("(anon)") : name);
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: return "enum " + (name.empty() ? std::string("(anon)") : name);
    case BTF_KIND_FUNC_PROTO: return "func";
    default: return name.empty() ? KindName(btf_kind(t)) : name;
  }
}

// Loads BTF from an object file path, or returns the cached kernel BTF (null path).
// *owned is set when the caller must free it.
static btf* GetBtf(Napi::Env env, Napi::Value pathV, const std::string& opVerb, bool* owned) {
  *owned = false;
  if (pathV.IsNull() || pathV.IsUndefined()) {
    int err = 0;
    btf* b = VmlinuxBtf(&err);
    if (!b) ThrowBpfError(env, "btf:vmlinux", "load kernel BTF (/sys/kernel/btf/vmlinux)", err, "",
                          "this kernel has no BTF at /sys/kernel/btf/vmlinux");
    return b;
  }
  if (!pathV.IsString()) {
    ThrowPlain(env, opVerb, opVerb + ": path must be a string or null");
    return nullptr;
  }
  std::string path = pathV.As<Napi::String>().Utf8Value();
  LogCapture cap;
  LogScope scope(&cap);
  errno = 0;
  btf* b = btf__parse(path.c_str(), nullptr);
  if (!b) {
    int err = errno ? errno : EINVAL;
    ThrowBpfError(env, "btf:" + path, "read BTF of " + path, err, cap.Tail(),
                  err == ENOENT ? "the file does not exist or has no .BTF section (build with clang -g)" : "");
    return nullptr;
  }
  *owned = true;
  return b;
}

static Napi::Value BtfHasType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    ThrowPlain(env, "btfHasType", "btfHasType(name, kind?): name must be a string");
    return env.Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int kind = -1;
  if (info.Length() > 1 && info[1].IsString()) {
    std::string k = info[1].As<Napi::String>().Utf8Value();
    if (!KindFromName(k, &kind)) {
      ThrowPlain(env, "btfHasType", "btfHasType: unknown BTF kind '" + k + "'");
      return env.Undefined();
    }
  }
  bool owned;
  btf* b = GetBtf(env, env.Null(), "btfHasType", &owned);
  if (!b) return env.Undefined();
  int id = kind < 0 ? btf__find_by_name(b, name.c_str()) : btf__find_by_name_kind(b, name.c_str(), kind);
  return Napi::Boolean::New(env, id > 0);
}

static Napi::Value BtfStruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[1].IsString()) {
    ThrowPlain(env, "btfStruct", "btfStruct(pathOrNull, name): name must be a string");
    return env.Undefined();
  }
  std::string name = info[1].As<Napi::String>().Utf8Value();
  bool owned;
  btf* b = GetBtf(env, info[0], "btfStruct", &owned);
  if (!b) return env.Undefined();
  int id = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_STRUCT);
  if (id <= 0) id = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_UNION);
  if (id <= 0) {
    // Accept a typedef of a struct/union too (e.g. "__sk_buff" style names).
    int td = btf__find_by_name_kind(b, name.c_str(), BTF_KIND_TYPEDEF);
    if (td > 0) {
      int r = btf__resolve_type(b, td);
      const btf_type* rt = r > 0 ? btf__type_by_id(b, r) : nullptr;
      if (rt && btf_is_composite(rt)) id = r;
    }
  }
  if (id <= 0) {
    if (owned) btf__free(b);
    return env.Null();
  }
  const btf_type* t = btf__type_by_id(b, id);
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name);
  o.Set("kind", btf_is_union(t) ? "union" : "struct");
  o.Set("size", t->size);
  Napi::Array members = Napi::Array::New(env);
  const btf_member* m = btf_members(t);
  for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
    Napi::Object mo = Napi::Object::New(env);
    const char* mn = btf__name_by_offset(b, m->name_off);
    uint32_t bitOff = btf_member_bit_offset(t, i);
    uint32_t bitSize = btf_member_bitfield_size(t, i);
    long sz = btf__resolve_size(b, m->type);
    mo.Set("name", mn ? mn : "");
    mo.Set("offset", bitOff / 8);
    mo.Set("bitOffset", bitOff);
    mo.Set("bitfieldSize", bitSize);
    mo.Set("size", sz < 0 ? 0 : (double)sz);
    mo.Set("type", TypeName(b, m->type));
    members.Set(i, mo);
  }
  o.Set("members", members);
  if (owned) btf__free(b);
  return o;
}

// The value of one enumerator of a kernel enum (e.g. bpf_attach_type's BPF_TRACE_UPROBE_MULTI), or null.
static Napi::Value BtfEnumValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString()) {
    ThrowPlain(env, "btfEnumValue", "btfEnumValue(enumName, valueName): both must be strings");
    return env.Undefined();
  }
  std::string enumName = info[0].As<Napi::String>().Utf8Value(), valueName = info[1].As<Napi::String>().Utf8Value();
  bool owned;
  btf* b = GetBtf(env, env.Null(), "btfEnumValue", &owned);
  if (!b) return env.Undefined();
  int id = btf__find_by_name_kind(b, enumName.c_str(), BTF_KIND_ENUM);
  const btf_type* t = id > 0 ? btf__type_by_id(b, id) : nullptr;
  if (!t) return env.Null();
  const struct btf_enum* e = btf_enum(t);
  for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
    const char* n = btf__name_by_offset(b, e->name_off);
    if (n && valueName == n) return Napi::Number::New(env, e->val);
  }
  return env.Null();
}

Napi::Object InitBtf(Napi::Env env, Napi::Object exports) {
  exports.Set("btfEnumValue", Napi::Function::New(env, BtfEnumValue, "btfEnumValue"));
  exports.Set("btfHasType", Napi::Function::New(env, BtfHasType, "btfHasType"));
  exports.Set("btfStruct", Napi::Function::New(env, BtfStruct, "btfStruct"));
  return exports;
}

}  // namespace kotel
