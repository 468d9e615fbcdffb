// BpfMap: element access, per-CPU summing, batched dumps and draining.
#include <string.h>

#include <unordered_set>

#include "common.h"

namespace kotel {

int NumPossibleCpus() {
  static int n = libbpf_num_possible_cpus();
  return n;
}

bool IsPerCpuMapType(bpf_map_type t) {
  return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
         t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static bool IsArrayType(bpf_map_type t) { return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY; }

static bool SupportsBatch(bpf_map_type t) {
  switch (t) {
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return true;
    default:
      return false;
  }
}

static bool IsUnsupported(int err) { return err == EINVAL || err == EOPNOTSUPP || err == 524 /*ENOTSUPP*/; }

struct MapInit {
  std::shared_ptr<ObjState> state;
  bpf_map* map;
};

class BpfMap : public Napi::ObjectWrap<BpfMap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpfMap",
                       {
                           InstanceAccessor<&BpfMap::GetName>("name"),
                           InstanceAccessor<&BpfMap::GetType>("type"),
                           InstanceAccessor<&BpfMap::GetTypeName>("typeName"),
                           InstanceAccessor<&BpfMap::GetKeySize>("keySize"),
                           InstanceAccessor<&BpfMap::GetValueSize>("valueSize"),
                           InstanceAccessor<&BpfMap::GetMaxEntries>("maxEntries"),
                           InstanceAccessor<&BpfMap::GetFd>("fd"),
                           InstanceAccessor<&BpfMap::GetPerCpu>("perCpu"),
                           InstanceMethod<&BpfMap::SetMaxEntries>("setMaxEntries"),
                           InstanceMethod<&BpfMap::CreateStandalone>("createStandalone"),
                           InstanceMethod<&BpfMap::ReuseFd>("reuseFd"),
                           InstanceMethod<&BpfMap::Lookup>("lookup"),
                           InstanceMethod<&BpfMap::LookupPerCpu>("lookupPerCpu"),
                           InstanceMethod<&BpfMap::Update>("update"),
                           InstanceMethod<&BpfMap::Delete>("delete"),
                           InstanceMethod<&BpfMap::Dump>("dump"),
                           InstanceMethod<&BpfMap::DumpAndDelete>("dumpAndDelete"),
                       });
  }

  BpfMap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfMap>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
      ThrowPlain(info.Env(), "map", "BpfMap cannot be constructed directly; use BpfObject.map(name)");
      return;
    }
    MapInit* init = info[0].As<Napi::External<MapInit>>().Data();
    st_ = init->state;
    map_ = init->map;
    name_ = bpf_map__name(map_);
  }

  std::shared_ptr<ObjState> st_;
  bpf_map* map_ = nullptr;
  std::string name_;

 private:
  bpf_map_type Type() const { return bpf_map__type(map_); }
  bool PerCpu() const { return IsPerCpuMapType(Type()); }
  uint32_t KeySize() const { return bpf_map__key_size(map_); }
  uint32_t ValueSize() const { return bpf_map__value_size(map_); }
  size_t Stride() const { return (ValueSize() + 7) & ~(size_t)7; }
  // Bytes the kernel reads/writes per element (all CPUs for per-CPU maps).
  size_t RawValueSize() const { return PerCpu() ? Stride() * NumPossibleCpus() : ValueSize(); }
  std::string What(const char* verb) const { return std::string(verb) + " " + st_->name + "/" + name_; }
  std::string Op(const char* verb) const { return std::string(verb) + ":" + name_; }

  bool Alive(Napi::Env env, const char* verb, bool needFd = true) {
    if (st_->closed()) {
      ThrowPlain(env, Op(verb), What(verb) + ": the BpfObject is closed", EBADF);
      return false;
    }
    if (needFd && bpf_map__fd(map_) < 0) {
      ThrowPlain(env, Op(verb), What(verb) + ": the BpfObject is not loaded; call load() first", EBADFD);
      return false;
    }
    return true;
  }

  bool CheckBuf(Napi::Env env, const char* verb, Napi::Value v, size_t want, const char* what) {
    if (!v.IsBuffer() || v.As<Napi::Buffer<uint8_t>>().Length() != want) {
      ThrowPlain(env, Op(verb),
                 What(verb) + ": " + what + " must be a Buffer of " + std::to_string(want) + " bytes", EINVAL);
      return false;
    }
    return true;
  }

  bool CheckSummable(Napi::Env env, const char* verb) {
    if (PerCpu() && ValueSize() % 8 != 0) {
      ThrowPlain(env, Op(verb),
                 What(verb) + ": per-CPU values of " + std::to_string(ValueSize()) +
                     " bytes cannot be summed as u64 slots; use lookupPerCpu()",
                 EINVAL);
      return false;
    }
    return true;
  }

  // Sums each u64 slot over all possible CPUs.
  void SumPerCpu(const uint8_t* raw, uint8_t* out) const {
    size_t slots = ValueSize() / 8, stride = Stride();
    int ncpu = NumPossibleCpus();
    for (size_t s = 0; s < slots; s++) {
      uint64_t sum = 0;
      for (int c = 0; c < ncpu; c++) {
        uint64_t v;
        memcpy(&v, raw + c * stride + s * 8, 8);
        sum += v;
      }
      memcpy(out + s * 8, &sum, 8);
    }
  }

  Napi::Value GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value GetType(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), Type()); }
  Napi::Value GetTypeName(const Napi::CallbackInfo& info) {
    const char* s = libbpf_bpf_map_type_str(Type());
    return Napi::String::New(info.Env(), s ? s : "unknown");
  }
  Napi::Value GetKeySize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), KeySize()); }
  Napi::Value GetValueSize(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ValueSize()); }
  Napi::Value GetMaxEntries(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), bpf_map__max_entries(map_));
  }
  Napi::Value GetFd(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), st_->closed() ? -1 : bpf_map__fd(map_));
  }
  Napi::Value GetPerCpu(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), PerCpu()); }

  Napi::Value SetMaxEntries(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "setMaxEntries", false)) return env.Undefined();
    if (!info[0].IsNumber()) {
      ThrowPlain(env, Op("setMaxEntries"), "setMaxEntries(n): n must be a number");
      return env.Undefined();
    }
    int r = bpf_map__set_max_entries(map_, info[0].As<Napi::Number>().Uint32Value());
    if (r < 0) ThrowBpfError(env, Op("setMaxEntries"), What("setMaxEntries"), Errno(r));
    return env.Undefined();
  }

  // Before load(): a kernel map with this map's definition, owned by the caller (its fd), so
  // several objects can share one map that outlives each of them.
  Napi::Value CreateStandalone(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "createStandalone", false)) return env.Undefined();
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(map_));
    int fd = bpf_map_create(Type(), name_.c_str(), KeySize(), ValueSize(), bpf_map__max_entries(map_), &opts);
    if (fd < 0) {
      ThrowBpfError(env, Op("createStandalone"), What("createStandalone"), Errno(fd));
      return env.Undefined();
    }
    return Napi::Number::New(env, fd);
  }

  // Before load(): the object uses the map behind `fd` instead of creating its own.
  Napi::Value ReuseFd(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "reuseFd", false)) return env.Undefined();
    if (!info[0].IsNumber()) {
      ThrowPlain(env, Op("reuseFd"), "reuseFd(fd): fd must be a number");
      return env.Undefined();
    }
    int r = bpf_map__reuse_fd(map_, info[0].As<Napi::Number>().Int32Value());
    if (r < 0) ThrowBpfError(env, Op("reuseFd"), What("reuseFd"), Errno(r));
    return env.Undefined();
  }

  Napi::Value Lookup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "lookup") || !CheckBuf(env, "lookup", info[0], KeySize(), "key") ||
        !CheckSummable(env, "lookup"))
      return env.Undefined();
    std::vector<uint8_t> raw(RawValueSize());
    int r = bpf_map_lookup_elem(bpf_map__fd(map_), info[0].As<Napi::Buffer<uint8_t>>().Data(), raw.data());
    if (r < 0) {
      if (Errno(r) == ENOENT) return env.Null();
      ThrowBpfError(env, Op("lookup"), What("lookup"), Errno(r));
      return env.Undefined();
    }
    if (!PerCpu()) return Napi::Buffer<uint8_t>::Copy(env, raw.data(), ValueSize());
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::Copy(env, raw.data(), ValueSize());
    SumPerCpu(raw.data(), out.Data());
    return out;
  }

  Napi::Value LookupPerCpu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "lookupPerCpu") || !CheckBuf(env, "lookupPerCpu", info[0], KeySize(), "key"))
      return env.Undefined();
    if (!PerCpu()) {
      ThrowPlain(env, Op("lookupPerCpu"), What("lookupPerCpu") + ": not a per-CPU map; use lookup()", EINVAL);
      return env.Undefined();
    }
    std::vector<uint8_t> raw(RawValueSize());
    int r = bpf_map_lookup_elem(bpf_map__fd(map_), info[0].As<Napi::Buffer<uint8_t>>().Data(), raw.data());
    if (r < 0) {
      if (Errno(r) == ENOENT) return env.Null();
      ThrowBpfError(env, Op("lookupPerCpu"), What("lookupPerCpu"), Errno(r));
      return env.Undefined();
    }
    Napi::Array arr = Napi::Array::New(env, NumPossibleCpus());
    for (int c = 0; c < NumPossibleCpus(); c++)
      arr.Set(c, Napi::Buffer<uint8_t>::Copy(env, raw.data() + c * Stride(), ValueSize()));
    return arr;
  }

  // Per-CPU maps accept either valueSize bytes (written to every CPU's slot,
  // typically to zero a counter) or the raw stride × possible-CPUs layout.
  Napi::Value Update(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "update") || !CheckBuf(env, "update", info[0], KeySize(), "key")) return env.Undefined();
    uint64_t flags = info.Length() > 2 && info[2].IsNumber() ? (uint64_t)info[2].As<Napi::Number>().Int64Value() : (uint64_t)BPF_ANY;
    if (!info[1].IsBuffer()) {
      ThrowPlain(env, Op("update"), What("update") + ": value must be a Buffer");
      return env.Undefined();
    }
    auto val = info[1].As<Napi::Buffer<uint8_t>>();
    std::vector<uint8_t> raw;
    const uint8_t* src = val.Data();
    if (PerCpu()) {
      if (val.Length() == ValueSize()) {
        raw.assign(RawValueSize(), 0);
        for (int c = 0; c < NumPossibleCpus(); c++) memcpy(raw.data() + c * Stride(), val.Data(), ValueSize());
        src = raw.data();
      } else if (val.Length() != RawValueSize()) {
        ThrowPlain(env, Op("update"),
                   What("update") + ": value must be " + std::to_string(ValueSize()) + " bytes (every CPU) or " +
                       std::to_string(RawValueSize()) + " bytes (per CPU)",
                   EINVAL);
        return env.Undefined();
      }
    } else if (!CheckBuf(env, "update", info[1], ValueSize(), "value")) {
      return env.Undefined();
    }
    int r = bpf_map_update_elem(bpf_map__fd(map_), info[0].As<Napi::Buffer<uint8_t>>().Data(), src, flags);
    if (r < 0) ThrowBpfError(env, Op("update"), What("update"), Errno(r));
    return env.Undefined();
  }

  Napi::Value Delete(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Alive(env, "delete") || !CheckBuf(env, "delete", info[0], KeySize(), "key")) return env.Undefined();
    int r = bpf_map_delete_elem(bpf_map__fd(map_), info[0].As<Napi::Buffer<uint8_t>>().Data());
    if (r < 0) {
      if (Errno(r) == ENOENT) return Napi::Boolean::New(env, false);
      ThrowBpfError(env, Op("delete"), What("delete"), Errno(r));
      return env.Undefined();
    }
    return Napi::Boolean::New(env, true);
  }

  struct DumpResult {
    std::vector<uint8_t> keys, raw;  // raw: RawValueSize() per entry
    uint32_t count = 0;
  };

  // BPF_MAP_LOOKUP(_AND_DELETE)_BATCH. Returns 0, or a positive errno; *unsupported
  // is set when the kernel refused the first batch call (fall back to iteration).
  int DumpBatch(bool del, DumpResult* res, bool* unsupported) {
    int fd = bpf_map__fd(map_);
    size_t ks = KeySize(), rvs = RawValueSize();
    uint32_t chunk = bpf_map__max_entries(map_);
    if (chunk > 4096) chunk = 4096;
    if (chunk == 0) chunk = 1;
    // Opaque cursor: a u32 bucket for hashes, a key for arrays.
    std::vector<uint8_t> in(ks < 8 ? 8 : ks), out(in.size());
    bool first = true;
    for (;;) {
      res->keys.resize((size_t)(res->count + chunk) * ks);
      res->raw.resize((size_t)(res->count + chunk) * rvs);
      uint32_t n = chunk;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int r = del ? bpf_map_lookup_and_delete_batch(fd, first ? nullptr : in.data(), out.data(),
                                                    res->keys.data() + (size_t)res->count * ks,
                                                    res->raw.data() + (size_t)res->count * rvs, &n, &opts)
                  : bpf_map_lookup_batch(fd, first ? nullptr : in.data(), out.data(),
                                         res->keys.data() + (size_t)res->count * ks,
                                         res->raw.data() + (size_t)res->count * rvs, &n, &opts);
      int err = r < 0 ? Errno(r) : 0;
      if (err == 0 || err == ENOENT) {
        res->count += n;
        if (err == ENOENT) break;  // end of map
        memcpy(in.data(), out.data(), in.size());
        first = false;
        continue;
      }
      if (err == ENOSPC && chunk < (1u << 20)) {  // a hash bucket larger than chunk
        res->count += n;
        chunk *= 2;
        continue;
      }
      if (first && res->count == 0 && IsUnsupported(err)) {
        *unsupported = true;
        return 0;
      }
      return err;
    }
    res->keys.resize((size_t)res->count * ks);
    res->raw.resize((size_t)res->count * rvs);
    return 0;
  }

  // get_next_key walk. A key deleted under us makes the kernel restart from the
  // first key, so seen keys are skipped and the walk is bounded.
  int DumpIterate(DumpResult* res) {
    int fd = bpf_map__fd(map_);
    size_t ks = KeySize(), rvs = RawValueSize();
    std::vector<uint8_t> cur(ks), next(ks), raw(rvs);
    std::unordered_set<std::string> seen;
    bool have = false;
    size_t limit = (size_t)bpf_map__max_entries(map_) * 4 + 64;
    for (size_t steps = 0; steps < limit; steps++) {
      int r = bpf_map_get_next_key(fd, have ? cur.data() : nullptr, next.data());
      if (r < 0) {
        if (Errno(r) == ENOENT) break;
        return Errno(r);
      }
      have = true;
      cur = next;
      if (!seen.insert(std::string((const char*)next.data(), ks)).second) continue;
      r = bpf_map_lookup_elem(fd, next.data(), raw.data());
      if (r < 0) {
        if (Errno(r) == ENOENT) continue;  // deleted between the two calls
        return Errno(r);
      }
      res->keys.insert(res->keys.end(), next.begin(), next.end());
      res->raw.insert(res->raw.end(), raw.begin(), raw.end());
      res->count++;
    }
    return 0;
  }

  Napi::Value ToJs(Napi::Env env, DumpResult& res) {
    Napi::Object o = Napi::Object::New(env);
    size_t vs = ValueSize();
    o.Set("count", res.count);
    o.Set("keys", Napi::Buffer<uint8_t>::Copy(env, res.keys.data(), res.keys.size()));
    Napi::Buffer<uint8_t> vals;
    if (PerCpu()) {
      std::vector<uint8_t> summed((size_t)res.count * vs);
      for (uint32_t i = 0; i < res.count; i++) SumPerCpu(res.raw.data() + (size_t)i * RawValueSize(), summed.data() + (size_t)i * vs);
      vals = Napi::Buffer<uint8_t>::Copy(env, summed.data(), summed.size());
    } else {
      vals = Napi::Buffer<uint8_t>::Copy(env, res.raw.data(), res.raw.size());
    }
    o.Set("values", vals);
    return o;
  }

  Napi::Value DumpCommon(const Napi::CallbackInfo& info, bool del) {
    Napi::Env env = info.Env();
    const char* verb = del ? "dumpAndDelete" : "dump";
    if (!Alive(env, verb) || !CheckSummable(env, verb)) return env.Undefined();
    if (del && IsArrayType(Type())) {
      ThrowPlain(env, Op(verb), What(verb) + ": array elements cannot be deleted; use dump()", EINVAL);
      return env.Undefined();
    }
    DumpResult res;
    bool unsupported = !SupportsBatch(Type());
    int err = 0;
    if (!unsupported) err = DumpBatch(del, &res, &unsupported);
    if (!err && unsupported) {
      res = DumpResult();
      err = DumpIterate(&res);
      if (!err && del) {
        // Fallback drain: updates landing between the read and the delete are lost.
        int fd = bpf_map__fd(map_);
        for (uint32_t i = 0; i < res.count && !err; i++) {
          int r = bpf_map_delete_elem(fd, res.keys.data() + (size_t)i * KeySize());
          if (r < 0 && Errno(r) != ENOENT) err = Errno(r);
        }
      }
    }
    if (err) {
      ThrowBpfError(env, Op(verb), What(verb), err);
      return env.Undefined();
    }
    return ToJs(env, res);
  }

  Napi::Value Dump(const Napi::CallbackInfo& info) { return DumpCommon(info, false); }
  Napi::Value DumpAndDelete(const Napi::CallbackInfo& info) { return DumpCommon(info, true); }
};

Napi::Value NewMapObject(Napi::Env env, std::shared_ptr<ObjState> state, bpf_map* map) {
  AddonData* data = env.GetInstanceData<AddonData>();
  MapInit init{std::move(state), map};
  return data->mapCtor.New({Napi::External<MapInit>::New(env, &init)});
}

bool UnwrapMap(Napi::Env env, Napi::Value v, std::shared_ptr<ObjState>* state, bpf_map** map) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(data->mapCtor.Value())) {
    ThrowPlain(env, "ringReader", "expected a BpfMap (from BpfObject.map(name))");
    return false;
  }
  BpfMap* m = BpfMap::Unwrap(v.As<Napi::Object>());
  *state = m->st_;
  *map = m->map_;
  return true;
}

Napi::Object InitMap(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = BpfMap::Define(env);
  env.GetInstanceData<AddonData>()->mapCtor = Napi::Persistent(ctor);
  exports.Set("BpfMap", ctor);
  return exports;
}

}  // namespace kotel
