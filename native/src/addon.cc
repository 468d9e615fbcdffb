// Module entry: classes plus free functions (versions, feature probes).
#include <unistd.h>

#include "common.h"

namespace kotel {

static Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), libbpf_version_string());
}

static Napi::Value NumPossibleCpusJs(const Napi::CallbackInfo& info) {
  int n = NumPossibleCpus();
  if (n < 0) {
    ThrowBpfError(info.Env(), "numPossibleCpus", "read /sys/devices/system/cpu/possible", -n);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), n);
}

// Name → enum through libbpf's own tables, so names match programs()/typeName.
template <typename E>
static int EnumFromName(const std::string& name, const char* (*str)(E)) {
  for (int i = 0; i < 256; i++) {
    const char* s = str((E)i);
    if (s && name == s) return i;
  }
  return -1;
}

// libbpf cannot probe BPF_PROG_TYPE_TRACING (it needs a BTF target), so load a
// trivial tp_btf program against sys_enter: true means tp_btf programs load here.
static bool ProbeTracing() {
  btf* vm = btf__load_vmlinux_btf();
  if (!vm) return false;
  int id = btf__find_by_name_kind(vm, "btf_trace_sys_enter", BTF_KIND_TYPEDEF);
  btf__free(vm);
  if (id <= 0) return false;
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},  // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                   // exit
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.expected_attach_type = BPF_TRACE_RAW_TP;
  opts.attach_btf_id = (uint32_t)id;
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, nullptr, "GPL", insns, 2, &opts);
  if (fd < 0) return false;
  close(fd);
  return true;
}

static Napi::Value ProbeProgType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  int t = EnumFromName<bpf_prog_type>(name, libbpf_bpf_prog_type_str);
  if (t < 0) {
    ThrowPlain(env, "probeProgType", "probeProgType: unknown program type '" + name + "'");
    return env.Undefined();
  }
  LogCapture cap;
  LogScope scope(&cap);
  if (t == BPF_PROG_TYPE_TRACING) return Napi::Boolean::New(env, ProbeTracing());
  int r = libbpf_probe_bpf_prog_type((bpf_prog_type)t, nullptr);
  // <0: libbpf cannot probe this type: report false.
  return Napi::Boolean::New(env, r == 1);
}

static Napi::Value ProbeMapType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  int t = EnumFromName<bpf_map_type>(name, libbpf_bpf_map_type_str);
  if (t < 0) {
    ThrowPlain(env, "probeMapType", "probeMapType: unknown map type '" + name + "'");
    return env.Undefined();
  }
  LogCapture cap;
  LogScope scope(&cap);
  int r = libbpf_probe_bpf_map_type((bpf_map_type)t, nullptr);
  return Napi::Boolean::New(env, r == 1);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLibbpfPrint();
  env.SetInstanceData<AddonData>(new AddonData());
  InitObject(env, exports);
  InitMap(env, exports);
  InitRingReader(env, exports);
  InitBtf(env, exports);
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion, "libbpfVersion"));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpusJs, "numPossibleCpus"));
  exports.Set("probeProgType", Napi::Function::New(env, ProbeProgType, "probeProgType"));
  exports.Set("probeMapType", Napi::Function::New(env, ProbeMapType, "probeMapType"));
  return exports;
}

}  // namespace kotel

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return kotel::Init(env, exports); }

NODE_API_MODULE(kotel_native, InitAll)
