// Shared declarations of the kotel native addon: a generic wrapper over libbpf.
#pragma once

#include <napi.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace kotel {

// ---- errors.cc ---------------------------------------------------------------

// Collects libbpf's print output on the current thread (libbpf_set_print is
// process-global, so the capture target is thread-local). Keeps the last lines.
struct LogCapture {
  std::deque<std::string> lines;
  std::string partial;
  size_t maxLines = 200;
  void Add(const std::string& text);
  void Clear() { lines.clear(); partial.clear(); }
  std::string Tail() const;
};

// RAII: routes libbpf output into `capture` for the scope's duration.
class LogScope {
 public:
  explicit LogScope(LogCapture* capture);
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  LogCapture* prev_;
};

void InstallLibbpfPrint();
std::string ErrnoName(int err);
std::string ErrnoText(int err);
// Builds and throws a JS Error with code/errno/op/hint/details. `err` is a
// positive errno. `what` is the human subject, e.g. "attach syscalls/handle_exit".
void ThrowBpfError(Napi::Env env, const std::string& op, const std::string& what, int err,
                   const std::string& details = "", const std::string& extraHint = "");
// Argument / state errors raised natively (the TS wrapper validates first).
void ThrowPlain(Napi::Env env, const std::string& op, const std::string& message, int err = EINVAL);
// libbpf 1.x returns -errno from int APIs; normalise to a positive errno.
inline int Errno(int ret) { return ret < 0 ? -ret : (errno ? errno : EINVAL); }

// ---- object state shared by BpfObject, BpfMap, RingReader --------------------

class RingReader;

struct ObjState {
  bpf_object* obj = nullptr;
  std::string name;  // bpf_object__name, e.g. "syscalls"
  std::string path;
  bool loaded = false;
  bool loadFailed = false;
  std::multimap<std::string, bpf_link*> links;
  std::multimap<std::string, int> linkFds;  // links made without libbpf (uprobe_multi): closed to detach
  std::set<RingReader*> readers;  // stopped before the object goes away
  int statsFd = -1;               // BPF_ENABLE_STATS fd; stats stay on while open
  LogCapture log;                 // libbpf output of the last operation

  bool closed() const { return obj == nullptr; }
  void Close();
  ~ObjState() { Close(); }
};

// Per-environment data: constructors needed to create wrappers natively.
struct AddonData {
  Napi::FunctionReference mapCtor;
};

Napi::Object InitObject(Napi::Env env, Napi::Object exports);
Napi::Object InitMap(Napi::Env env, Napi::Object exports);
Napi::Object InitRingReader(Napi::Env env, Napi::Object exports);
Napi::Object InitBtf(Napi::Env env, Napi::Object exports);

// map.cc: creates a BpfMap JS object for a map of `state`.
Napi::Value NewMapObject(Napi::Env env, std::shared_ptr<ObjState> state, bpf_map* map);
// map.cc: extracts the native map from a BpfMap JS object (nullptr + JS error if not one).
bool UnwrapMap(Napi::Env env, Napi::Value v, std::shared_ptr<ObjState>* state, bpf_map** map);

// ring_reader.cc: stops a reader because its object is closing.
void StopReaderForClose(RingReader* r);

int NumPossibleCpus();
bool IsPerCpuMapType(bpf_map_type t);

}  // namespace kotel
