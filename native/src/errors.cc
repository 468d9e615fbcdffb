// Error construction and libbpf log capture.
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

namespace kotel {

static thread_local LogCapture* tl_capture = nullptr;

void LogCapture::Add(const std::string& text) {
  partial += text;
  size_t start = 0;
  for (;;) {
    size_t nl = partial.find('\n', start);
    if (nl == std::string::npos) break;
    lines.emplace_back(partial, start, nl - start);
    if (lines.size() > maxLines) lines.pop_front();
    start = nl + 1;
  }
  partial.erase(0, start);
}

std::string LogCapture::Tail() const {
  std::string out;
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  if (!partial.empty()) out += partial;
  return out;
}

LogScope::LogScope(LogCapture* capture) : prev_(tl_capture) {
  if (capture) capture->Clear();
  tl_capture = capture;
}
LogScope::~LogScope() { tl_capture = prev_; }

static int PrintFn(enum libbpf_print_level level, const char* fmt, va_list ap) {
  // KOTEL_LIBBPF_DEBUG=1 mirrors everything (debug included) to stderr.
  static const bool mirror = getenv("KOTEL_LIBBPF_DEBUG") != nullptr;
  if (mirror) {
    va_list ap2;
    va_copy(ap2, ap);
    vfprintf(stderr, fmt, ap2);
    va_end(ap2);
  }
  LogCapture* c = tl_capture;
  // Debug lines (CO-RE relocations etc.) would push the verifier log out of the tail.
  if (!c || (level == LIBBPF_DEBUG && !mirror)) return 0;
  char small[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) return 0;
  if ((size_t)n < sizeof small) {
    c->Add(std::string(small, n));
  } else {
    std::string big(n + 1, '\0');
    vsnprintf(&big[0], big.size(), fmt, ap);
    big.resize(n);
    c->Add(big);
  }
  return 0;
}

void InstallLibbpfPrint() { libbpf_set_print(PrintFn); }

std::string ErrnoName(int err) {
  // Kernel-internal codes that leak to user space through bpf(2).
  switch (err) {
    case 512: return "ERESTARTSYS";
    case 524: return "ENOTSUPP";
    default: break;
  }
  const char* n = strerrorname_np(err);
  if (n) return n;
  std::string s = "E";
  s += std::to_string(err);
  return s;
}

std::string ErrnoText(int err) {
  if (err == 524) return "Operation not supported (kernel ENOTSUPP)";
  return strerror(err);
}

static bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

static std::string HintFor(const std::string& op, int err, const std::string& details) {
  // The verifier's answer to a pending signal, even after libbpf's retries: not a refusal
  if (err == EAGAIN && StartsWith(op, "load"))
    return "the kernel interrupted verification (signals kept arriving); start again";
  if (details.find("BEGIN PROG LOAD LOG") != std::string::npos)
    return "the verifier refused the program; see err.details";
  bool btfMissing = access("/sys/kernel/btf/vmlinux", R_OK) != 0;
  if (btfMissing && (StartsWith(op, "load") || StartsWith(op, "btf")))
    return "this kernel has no BTF at /sys/kernel/btf/vmlinux";
  switch (err) {
    case EPERM:
    case EACCES:
      if (geteuid() == 0)
        return "already running as root: the kernel refuses this program or attach type "
               "(lockdown, or unsupported here, e.g. fentry)";
      return "run as root or grant CAP_BPF+CAP_PERFMON";
    case ENOENT:
      if (StartsWith(op, "attach")) return "the tracepoint or function does not exist on this kernel";
      if (StartsWith(op, "open")) return "the object file does not exist; run bash scripts/setup.sh";
      if (StartsWith(op, "btf")) return "no such type in this BTF";
      return "";
    case ESRCH:
      if (StartsWith(op, "attach")) return "the tracepoint or function does not exist on this kernel";
      return "";
    case E2BIG:
    case EINVAL:
      if (StartsWith(op, "load")) return "the verifier refused the program; see err.details";
      return "";
    case EOPNOTSUPP:
    case 524:
      if (StartsWith(op, "attach"))
        return "this program's section cannot be auto-attached (uprobes need attachUprobe)";
      return "not supported by this kernel or map type";
    case EBUSY:
      return "the object is already loaded (do this before load())";
    default:
      return "";
  }
}

void ThrowBpfError(Napi::Env env, const std::string& op, const std::string& what, int err,
                   const std::string& details, const std::string& extraHint) {
  std::string hint = extraHint.empty() ? HintFor(op, err, details) : extraHint;
  std::string code = ErrnoName(err);
  std::string msg = what + ": " + code + " (" + ErrnoText(err) + ")";
  if (!hint.empty()) msg += " \u2014 " + hint;
  Napi::Error e = Napi::Error::New(env, msg);
  Napi::Object o = e.Value();
  o.Set("code", code);
  o.Set("errno", err);
  o.Set("op", op);
  o.Set("hint", hint);
  o.Set("details", details);
  e.ThrowAsJavaScriptException();
}

void ThrowPlain(Napi::Env env, const std::string& op, const std::string& message, int err) {
  Napi::Error e = Napi::Error::New(env, message);
  Napi::Object o = e.Value();
  o.Set("code", ErrnoName(err));
  o.Set("errno", err);
  o.Set("op", op);
  o.Set("hint", "");
  o.Set("details", "");
  e.ThrowAsJavaScriptException();
}

}  // namespace kotel
