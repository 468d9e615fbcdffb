// BpfObject: open → (autoload, globals) → load → attach/detach, program stats.
#include <libgen.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <vector>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

namespace kotel {

// Closing a uprobe_multi link waits for a grace period; closed on one thread each, the waits
// overlap (6 links: 248 ms one after another, 68 ms together).
static void* CloseFdThread(void* fd) {
  close(static_cast<int>(reinterpret_cast<intptr_t>(fd)));
  return nullptr;
}

static void CloseLinkFds(const std::vector<int>& fds) {
  std::vector<pthread_t> threads;
  for (int fd : fds) {
    pthread_t t;
    if (fds.size() > 1 && pthread_create(&t, nullptr, CloseFdThread, reinterpret_cast<void*>(static_cast<intptr_t>(fd))) == 0)
      threads.push_back(t);
    else
      close(fd);
  }
  for (pthread_t t : threads) pthread_join(t, nullptr);
}

void ObjState::Close() {
  if (!obj) return;
  // Readers consume maps of this object: stop them (joins their threads) first.
  std::set<RingReader*> rs = readers;
  for (RingReader* r : rs) StopReaderForClose(r);
  readers.clear();
  std::vector<int> fds;
  for (auto& kv : linkFds) fds.push_back(kv.second);
  CloseLinkFds(fds);
  linkFds.clear();
  for (auto& kv : links) bpf_link__destroy(kv.second);
  links.clear();
  if (statsFd >= 0) close(statsFd);
  statsFd = -1;
  bpf_object__close(obj);
  obj = nullptr;
}


/** Blocks every blockable signal for the calling thread while it lives; restores the mask after. */
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t all;
    sigfillset(&all);
    held_ = pthread_sigmask(SIG_BLOCK, &all, &old_) == 0;
  }
  ~SignalsHeld() {
    if (held_) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t old_;
  bool held_;
};

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "BpfObject",
        {
            InstanceAccessor<&BpfObject::GetName>("name"),
            InstanceAccessor<&BpfObject::GetPath>("path"),
            InstanceAccessor<&BpfObject::GetLoaded>("loaded"),
            InstanceAccessor<&BpfObject::GetClosed>("closed"),
            InstanceMethod<&BpfObject::Programs>("programs"),
            InstanceMethod<&BpfObject::SetAutoload>("setAutoload"),
            InstanceMethod<&BpfObject::Globals>("globals"),
            InstanceMethod<&BpfObject::SetGlobal>("setGlobal"),
            InstanceMethod<&BpfObject::GetGlobal>("getGlobal"),
            InstanceMethod<&BpfObject::Load>("load"),
            InstanceMethod<&BpfObject::Attach>("attach"),
            InstanceMethod<&BpfObject::AttachUprobe>("attachUprobe"),
            InstanceMethod<&BpfObject::Detach>("detach"),
            InstanceMethod<&BpfObject::DetachAll>("detachAll"),
            InstanceMethod<&BpfObject::SetExpectedAttachType>("setExpectedAttachType"),
            InstanceMethod<&BpfObject::AttachUprobeMulti>("attachUprobeMulti"),
            InstanceMethod<&BpfObject::Map>("map"),
            InstanceMethod<&BpfObject::Maps>("maps"),
            InstanceMethod<&BpfObject::ProgramStats>("programStats"),
            InstanceMethod<&BpfObject::EnableRunTimeStats>("enableRunTimeStats"),
            InstanceMethod<&BpfObject::LastLog>("lastLog"),
            InstanceMethod<&BpfObject::Close>("close"),
        });
  }

  BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
    Napi::Env env = info.Env();
    st_ = std::make_shared<ObjState>();
    if (info.Length() < 1 || !info[0].IsString()) {
      ThrowPlain(env, "open", "BpfObject(path): path must be a string");
      return;
    }
    st_->path = info[0].As<Napi::String>().Utf8Value();
    std::string base = Base();
    LogScope scope(&st_->log);
    errno = 0;
    bpf_object* obj = bpf_object__open_file(st_->path.c_str(), nullptr);
    if (!obj) {
      int err = errno ? errno : EINVAL;
      ThrowBpfError(env, "open:" + base, "open " + st_->path, err, st_->log.Tail());
      return;
    }
    st_->obj = obj;
    st_->name = bpf_object__name(obj);
  }

  ~BpfObject() override {
    // The state (and the libbpf object) lives on while BpfMap/RingReader wrappers hold it.
    st_.reset();
  }

 private:
  std::shared_ptr<ObjState> st_;

  std::string Base() const {
    std::string p = st_->path;
    size_t s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
  }

  bool CheckOpen(Napi::Env env, const std::string& op) {
    if (st_->closed()) {
      ThrowPlain(env, op, "BpfObject " + (st_->name.empty() ? st_->path : st_->name) + " is closed", EBADF);
      return false;
    }
    return true;
  }

  bool CheckLoaded(Napi::Env env, const std::string& op) {
    if (!CheckOpen(env, op)) return false;
    if (!st_->loaded) {
      ThrowPlain(env, op, "BpfObject " + st_->name + " is not loaded; call load() first", EBADFD);
      return false;
    }
    return true;
  }

  bpf_program* FindProg(Napi::Env env, const std::string& op, Napi::Value v, std::string* nameOut) {
    if (!v.IsString()) {
      ThrowPlain(env, op, op + ": program name must be a string");
      return nullptr;
    }
    std::string name = v.As<Napi::String>().Utf8Value();
    bpf_program* p = bpf_object__find_program_by_name(st_->obj, name.c_str());
    if (!p) {
      std::string have;
      bpf_program* q;
      bpf_object__for_each_program(q, st_->obj) {
        have += have.empty() ? "" : ", ";
        have += bpf_program__name(q);
      }
      ThrowPlain(env, op + ":" + name,
                 "object " + st_->name + " has no program '" + name + "' (programs: " + have + ")", ENOENT);
      return nullptr;
    }
    if (nameOut) *nameOut = name;
    return p;
  }

  Napi::Value GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), st_->name); }
  Napi::Value GetPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), st_->path); }
  Napi::Value GetLoaded(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), st_->loaded); }
  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), st_->closed()); }

  Napi::Value Programs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "programs")) return env.Undefined();
    Napi::Array arr = Napi::Array::New(env);
    uint32_t i = 0;
    bpf_program* p;
    bpf_object__for_each_program(p, st_->obj) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_program__name(p));
      o.Set("section", bpf_program__section_name(p));
      const char* t = libbpf_bpf_prog_type_str(bpf_program__type(p));
      o.Set("type", t ? t : "unknown");
      o.Set("autoload", bpf_program__autoload(p));
      arr.Set(i++, o);
    }
    return arr;
  }

  Napi::Value SetAutoload(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "setAutoload")) return env.Undefined();
    std::string name;
    bpf_program* p = FindProg(env, "setAutoload", info[0], &name);
    if (!p) return env.Undefined();
    bool on = info[1].ToBoolean();
    int r = bpf_program__set_autoload(p, on);
    if (r < 0) ThrowBpfError(env, "setAutoload:" + name, "setAutoload " + st_->name + "/" + name, Errno(r));
    return env.Undefined();
  }

  // Variables of the object's data sections, from the BTF DATASECs.
  struct VarInfo {
    std::string name, section;
    uint32_t offset = 0, size = 0;
    int32_t datasecId = 0;
  };

  std::vector<VarInfo> CollectVars() {
    std::vector<VarInfo> out;
    const btf* b = bpf_object__btf(st_->obj);
    if (!b) return out;
    uint32_t n = btf__type_cnt(b);
    for (uint32_t id = 1; id < n; id++) {
      const btf_type* t = btf__type_by_id(b, id);
      if (!btf_is_datasec(t)) continue;
      const char* sec = btf__name_by_offset(b, t->name_off);
      const btf_var_secinfo* vs = btf_var_secinfos(t);
      for (uint16_t k = 0; k < btf_vlen(t); k++, vs++) {
        const btf_type* v = btf__type_by_id(b, vs->type);
        if (!v || !btf_is_var(v)) continue;
        VarInfo vi;
        vi.name = btf__name_by_offset(b, v->name_off);
        vi.section = sec ? sec : "";
        vi.offset = vs->offset;
        vi.size = vs->size;
        vi.datasecId = (int32_t)id;
        out.push_back(vi);
      }
    }
    return out;
  }

  Napi::Value Globals(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "globals")) return env.Undefined();
    Napi::Array arr = Napi::Array::New(env);
    uint32_t i = 0;
    for (const auto& v : CollectVars()) {
      if (v.section != ".rodata" && v.section != ".data" && v.section != ".bss" &&
          v.section.rfind(".rodata.", 0) != 0 && v.section.rfind(".data.", 0) != 0)
        continue;  // .kconfig/.ksyms/.maps are not writable globals
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", v.name);
      o.Set("section", v.section);
      o.Set("offset", v.offset);
      o.Set("size", v.size);
      arr.Set(i++, o);
    }
    return arr;
  }

  // Finds the variable and its data-section map. Before load, values live in the
  // map's initial-value memory; after load in the kernel map (key 0), which
  // libbpf 1.1 does not remap, so post-load access goes through the map fd.
  bpf_map* FindGlobal(Napi::Env env, const std::string& op, const std::string& name, VarInfo* out) {
    std::vector<VarInfo> vars = CollectVars();
    const VarInfo* found = nullptr;
    for (const auto& v : vars)
      if (v.name == name) found = &v;
    if (!found) {
      std::string have;
      for (const auto& v : vars) {
        if (v.section == ".maps" || v.section == ".kconfig" || v.section == ".ksyms") continue;
        have += have.empty() ? "" : ", ";
        have += v.name;
      }
      ThrowPlain(env, op, "object " + st_->name + " has no global '" + name + "' (globals: " + have + ")",
                 ENOENT);
      return nullptr;
    }
    bpf_map* m;
    bpf_map* sec = nullptr;
    bpf_object__for_each_map(m, st_->obj) {
      if (bpf_map__is_internal(m) && (int32_t)bpf_map__btf_value_type_id(m) == found->datasecId) sec = m;
    }
    if (!sec) {  // fall back to libbpf's naming: "<obj prefix><section>"
      bpf_object__for_each_map(m, st_->obj) {
        std::string mn = bpf_map__name(m);
        if (bpf_map__is_internal(m) && mn.size() >= found->section.size() &&
            mn.compare(mn.size() - found->section.size(), found->section.size(), found->section) == 0)
          sec = m;
      }
    }
    if (!sec || (size_t)found->offset + found->size > bpf_map__value_size(sec)) {
      ThrowPlain(env, op, "global '" + name + "': no usable map for section " + found->section, ENOENT);
      return nullptr;
    }
    *out = *found;
    return sec;
  }

  Napi::Value SetGlobal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "setGlobal")) return env.Undefined();
    if (!info[0].IsString() || !info[1].IsBuffer()) {
      ThrowPlain(env, "setGlobal", "setGlobal(name, value): name must be a string and value a Buffer");
      return env.Undefined();
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string op = "setGlobal:" + name;
    VarInfo v;
    bpf_map* sec = FindGlobal(env, op, name, &v);
    if (!sec) return env.Undefined();
    auto buf = info[1].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() != v.size) {
      ThrowPlain(env, op,
                 "setGlobal " + st_->name + "/" + name + ": value is " + std::to_string(buf.Length()) +
                     " bytes but the variable is " + std::to_string(v.size) + " bytes (" + v.section + ")",
                 EINVAL);
      return env.Undefined();
    }
    if (!st_->loaded) {
      size_t secSize = 0;
      uint8_t* base = (uint8_t*)bpf_map__initial_value(sec, &secSize);
      if (!base || (size_t)v.offset + v.size > secSize) {
        ThrowPlain(env, op, "setGlobal " + name + ": section " + v.section + " has no initial value", EINVAL);
        return env.Undefined();
      }
      memcpy(base + v.offset, buf.Data(), v.size);
      return env.Undefined();
    }
    if (v.section.rfind(".rodata", 0) == 0) {
      ThrowPlain(env, op,
                 "setGlobal " + st_->name + "/" + name + ": " + v.section +
                     " is frozen after load(); set const volatile globals before load()",
                 EROFS);
      return env.Undefined();
    }
    // Read-modify-write of the whole section: not atomic against BPF writers of
    // neighbouring variables, fine for configuration knobs.
    std::vector<uint8_t> whole(bpf_map__value_size(sec));
    uint32_t key = 0;
    int r = bpf_map_lookup_elem(bpf_map__fd(sec), &key, whole.data());
    if (r == 0) {
      memcpy(whole.data() + v.offset, buf.Data(), v.size);
      r = bpf_map_update_elem(bpf_map__fd(sec), &key, whole.data(), BPF_ANY);
    }
    if (r < 0) ThrowBpfError(env, op, "setGlobal " + st_->name + "/" + name, Errno(r));
    return env.Undefined();
  }

  Napi::Value GetGlobal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "getGlobal")) return env.Undefined();
    if (!info[0].IsString()) {
      ThrowPlain(env, "getGlobal", "getGlobal(name): name must be a string");
      return env.Undefined();
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string op = "getGlobal:" + name;
    VarInfo v;
    bpf_map* sec = FindGlobal(env, op, name, &v);
    if (!sec) return env.Undefined();
    if (!st_->loaded) {
      size_t secSize = 0;
      const uint8_t* base = (const uint8_t*)bpf_map__initial_value(sec, &secSize);
      if (!base || (size_t)v.offset + v.size > secSize) {
        // .bss has no initial image before load: it is all zeros.
        std::vector<uint8_t> zeros(v.size, 0);
        return Napi::Buffer<uint8_t>::Copy(env, zeros.data(), v.size);
      }
      return Napi::Buffer<uint8_t>::Copy(env, base + v.offset, v.size);
    }
    std::vector<uint8_t> whole(bpf_map__value_size(sec));
    uint32_t key = 0;
    int r = bpf_map_lookup_elem(bpf_map__fd(sec), &key, whole.data());
    if (r < 0) {
      ThrowBpfError(env, op, "getGlobal " + st_->name + "/" + name, Errno(r));
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, whole.data() + v.offset, v.size);
  }

  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string op = "load:" + Base();
    if (!CheckOpen(env, op)) return env.Undefined();
    if (st_->loaded) return env.Undefined();
    if (st_->loadFailed) {
      ThrowPlain(env, op, "BpfObject " + st_->name + ": a failed load cannot be retried; open the file again",
                 EINVAL);
      return env.Undefined();
    }
    LogScope scope(&st_->log);
    int r;
    {
      // The verifier gives up with EAGAIN when a signal is pending (a sampling profiler's SIGPROF,
      // a child's SIGCHLD), and libbpf retries only a few times: hold this thread's signals back
      // for the load; they are delivered right after it. SIGKILL still ends a stuck load.
      SignalsHeld held;
      r = bpf_object__load(st_->obj);
    }
    if (r < 0) {
      st_->loadFailed = true;
      ThrowBpfError(env, op, "load " + Base(), Errno(r), st_->log.Tail());
      return env.Undefined();
    }
    st_->loaded = true;
    return env.Undefined();
  }

  // The loaded program named by v, for the attach calls; nullptr after throwing.
  bpf_program* AttachableProg(Napi::Env env, const std::string& call, Napi::Value v, std::string* name) {
    if (!CheckLoaded(env, call)) return nullptr;
    bpf_program* p = FindProg(env, call, v, name);
    if (!p) return nullptr;
    if (bpf_program__fd(p) < 0) {
      ThrowPlain(env, "attach:" + *name, "attach " + st_->name + "/" + *name + ": program was not loaded (autoload off?)",
                 EBADF);
      return nullptr;
    }
    return p;
  }

  Napi::Value Attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name;
    bpf_program* p = AttachableProg(env, "attach", info[0], &name);
    if (!p) return env.Undefined();
    std::string op = "attach:" + name;
    LogScope scope(&st_->log);
    errno = 0;
    bpf_link* l = bpf_program__attach(p);
    if (!l) {
      ThrowBpfError(env, op, "attach " + st_->name + "/" + name, errno ? errno : EINVAL, st_->log.Tail());
      return env.Undefined();
    }
    st_->links.emplace(name, l);
    return env.Undefined();
  }

  Napi::Value AttachUprobe(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name;
    bpf_program* p = AttachableProg(env, "attachUprobe", info[0], &name);
    if (!p) return env.Undefined();
    std::string op = "attach:" + name;
    if (!info[1].IsObject()) {
      ThrowPlain(env, op, "attachUprobe(prog, opts): opts must be an object");
      return env.Undefined();
    }
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value bin = o.Get("binaryPath"), fn = o.Get("funcName"), off = o.Get("offset"),
                ret = o.Get("retprobe"), pid = o.Get("pid");
    if (!bin.IsString()) {
      ThrowPlain(env, op, "attachUprobe: opts.binaryPath must be a string");
      return env.Undefined();
    }
    std::string binary = bin.As<Napi::String>().Utf8Value();
    std::string func = fn.IsString() ? fn.As<Napi::String>().Utf8Value() : "";
    size_t offset = off.IsNumber() ? (size_t)off.As<Napi::Number>().Int64Value() : 0;
    int pidv = pid.IsNumber() ? pid.As<Napi::Number>().Int32Value() : -1;
    LIBBPF_OPTS(bpf_uprobe_opts, uo);
    uo.retprobe = ret.ToBoolean();
    uo.func_name = func.empty() ? nullptr : func.c_str();
    LogScope scope(&st_->log);
    errno = 0;
    bpf_link* l = bpf_program__attach_uprobe_opts(p, pidv, binary.c_str(), offset, &uo);
    if (!l) {
      int err = errno ? errno : EINVAL;
      std::string hint = err == ENOENT ? "the binary or the function symbol was not found" : "";
      ThrowBpfError(env, op,
                    "attach " + st_->name + "/" + name + " to " + binary + (func.empty() ? "" : ":" + func), err,
                    st_->log.Tail(), hint);
      return env.Undefined();
    }
    st_->links.emplace(name, l);
    return env.Undefined();
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "detach")) return env.Undefined();
    std::string name;
    if (!FindProg(env, "detach", info[0], &name)) return env.Undefined();
    return Napi::Number::New(env, DestroyLinksOf({name}));
  }

  // Destroys the links of these programs: libbpf's one by one, the uprobe_multi fds together.
  uint32_t DestroyLinksOf(const std::vector<std::string>& names) {
    uint32_t n = 0;
    std::vector<int> fds;
    for (const std::string& name : names) {
      auto range = st_->links.equal_range(name);
      for (auto it = range.first; it != range.second; ++it, ++n) bpf_link__destroy(it->second);
      st_->links.erase(range.first, range.second);
      auto fdRange = st_->linkFds.equal_range(name);
      for (auto it = fdRange.first; it != fdRange.second; ++it) fds.push_back(it->second);
      st_->linkFds.erase(fdRange.first, fdRange.second);
    }
    CloseLinkFds(fds);
    return n + static_cast<uint32_t>(fds.size());
  }

  // Every link of every listed program at once: uprobe_multi links each wait for a grace period
  // when closed, and closed together those waits overlap.
  Napi::Value DetachAll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "detachAll")) return env.Undefined();
    if (!info[0].IsArray()) {
      ThrowPlain(env, "detachAll", "detachAll: expects an array of program names", EINVAL);
      return env.Undefined();
    }
    Napi::Array names = info[0].As<Napi::Array>();
    std::vector<std::string> found;
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name;
      if (!FindProg(env, "detachAll", names.Get(i), &name)) return env.Undefined();
      found.push_back(name);
    }
    return Napi::Number::New(env, DestroyLinksOf(found));
  }

  // Before load: the attach type the kernel verifies the program for (uprobe_multi programs
  // must say so at load; libbpf 1.1 names no section for it).
  Napi::Value SetExpectedAttachType(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "setExpectedAttachType")) return env.Undefined();
    std::string name;
    bpf_program* p = FindProg(env, "setExpectedAttachType", info[0], &name);
    if (!p) return env.Undefined();
    if (!info[1].IsNumber()) {
      ThrowPlain(env, "setExpectedAttachType:" + name, "setExpectedAttachType: type must be a number", EINVAL);
      return env.Undefined();
    }
    int r = bpf_program__set_expected_attach_type(p, static_cast<bpf_attach_type>(info[1].As<Napi::Number>().Uint32Value()));
    if (r < 0) ThrowBpfError(env, "setExpectedAttachType:" + name, "set expected attach type of " + name, Errno(r));
    return env.Undefined();
  }

  // One BPF_LINK_CREATE for every offset of one file (kernel 6.6+): the system libbpf (1.1) has no
  // call for it. attr.link_create: prog_fd, target_fd, attach_type, flags, then uprobe_multi's
  // path, offsets, ref_ctr_offsets, cookies (u64 each), cnt, flags, pid (u32 each).
  Napi::Value AttachUprobeMulti(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string name;
    bpf_program* p = AttachableProg(env, "attachUprobeMulti", info[0], &name);
    if (!p) return env.Undefined();
    std::string op = "attach:" + name;
    Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    Napi::Value bin = opts.Get("binaryPath"), offv = opts.Get("offsets"), typev = opts.Get("attachType");
    if (!bin.IsString() || !offv.IsArray() || !typev.IsNumber()) {
      ThrowPlain(env, op, "attachUprobeMulti(prog, opts): opts needs binaryPath (string), offsets (array), attachType (number)", EINVAL);
      return env.Undefined();
    }
    std::string path = bin.As<Napi::String>().Utf8Value();
    Napi::Array offs = offv.As<Napi::Array>();
    bool ret = opts.Get("retprobe").ToBoolean();
    uint32_t attachType = typev.As<Napi::Number>().Uint32Value();
    std::vector<uint64_t> offsets;
    for (uint32_t i = 0; i < offs.Length(); i++) {
      Napi::Value o = offs.Get(i);
      if (!o.IsNumber()) {
        ThrowPlain(env, op, "attachUprobeMulti: offsets must be numbers", EINVAL);
        return env.Undefined();
      }
      offsets.push_back(static_cast<uint64_t>(o.As<Napi::Number>().Int64Value()));
    }
    if (offsets.empty()) {
      ThrowPlain(env, op, "attachUprobeMulti: no offsets", EINVAL);
      return env.Undefined();
    }
    uint8_t attr[64] = {};
    uint32_t u32s[4] = {static_cast<uint32_t>(bpf_program__fd(p)), 0, attachType, 0};
    uint64_t u64s[4] = {reinterpret_cast<uint64_t>(path.c_str()), reinterpret_cast<uint64_t>(offsets.data()), 0, 0};
    uint32_t tail[3] = {static_cast<uint32_t>(offsets.size()), ret ? 1u /* BPF_F_UPROBE_MULTI_RETURN */ : 0u, 0};
    memcpy(attr, u32s, sizeof(u32s));
    memcpy(attr + 16, u64s, sizeof(u64s));
    memcpy(attr + 48, tail, sizeof(tail));
    int fd = static_cast<int>(syscall(__NR_bpf, BPF_LINK_CREATE, attr, sizeof(attr)));
    if (fd < 0) {
      ThrowBpfError(env, op, "attach " + st_->name + "/" + name + " (uprobe_multi) to " + path, errno);
      return env.Undefined();
    }
    st_->linkFds.emplace(name, fd);
    return env.Undefined();
  }

  Napi::Value Map(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "map")) return env.Undefined();
    if (!info[0].IsString()) {
      ThrowPlain(env, "map", "map(name): name must be a string");
      return env.Undefined();
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    bpf_map* m = bpf_object__find_map_by_name(st_->obj, name.c_str());
    if (!m) {
      std::string have;
      bpf_map* q;
      bpf_object__for_each_map(q, st_->obj) {
        have += have.empty() ? "" : ", ";
        have += bpf_map__name(q);
      }
      ThrowPlain(env, "map:" + name, "object " + st_->name + " has no map '" + name + "' (maps: " + have + ")",
                 ENOENT);
      return env.Undefined();
    }
    return NewMapObject(env, st_, m);
  }

  Napi::Value Maps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "maps")) return env.Undefined();
    Napi::Array arr = Napi::Array::New(env);
    uint32_t i = 0;
    bpf_map* m;
    bpf_object__for_each_map(m, st_->obj) arr.Set(i++, bpf_map__name(m));
    return arr;
  }

  Napi::Value ProgramStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckLoaded(env, "programStats")) return env.Undefined();
    Napi::Array arr = Napi::Array::New(env);
    uint32_t i = 0;
    bpf_program* p;
    bpf_object__for_each_program(p, st_->obj) {
      int fd = bpf_program__fd(p);
      if (fd < 0) continue;  // not loaded (autoload off)
      bpf_prog_info pi;
      memset(&pi, 0, sizeof pi);
      uint32_t len = sizeof pi;
      int r = bpf_obj_get_info_by_fd(fd, &pi, &len);
      if (r < 0) {
        ThrowBpfError(env, std::string("programStats:") + bpf_program__name(p),
                      std::string("programStats ") + st_->name + "/" + bpf_program__name(p), Errno(r));
        return env.Undefined();
      }
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", bpf_program__name(p));
      o.Set("id", pi.id);
      // Numbers, not bigints: exact below 2^53 (104 days of cumulative BPF CPU time).
      o.Set("runTimeNs", (double)pi.run_time_ns);
      o.Set("runCount", (double)pi.run_cnt);
      o.Set("recursionMisses", (double)pi.recursion_misses);
      arr.Set(i++, o);
    }
    return arr;
  }

  Napi::Value EnableRunTimeStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env, "enableRunTimeStats")) return env.Undefined();
    if (st_->statsFd >= 0) return Napi::Boolean::New(env, true);
    int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd < 0) return Napi::Boolean::New(env, false);
    st_->statsFd = fd;
    return Napi::Boolean::New(env, true);
  }

  Napi::Value LastLog(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), st_->log.Tail());
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    st_->Close();
    return info.Env().Undefined();
  }
};

Napi::Object InitObject(Napi::Env env, Napi::Object exports) {
  exports.Set("BpfObject", BpfObject::Define(env));
  return exports;
}

}  // namespace kotel
