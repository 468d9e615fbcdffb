{
  "targets": [
    {
      "target_name": "kotel_native",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/object.cc",
        "src/map.cc",
        "src/ring_reader.cc",
        "src/btf.cc"
      ],
      # node-addon-api from the project's own node_modules (no `node -p` here: the
      # node on PATH may be the system's Node 20).
      "include_dirs": ["../node_modules/node-addon-api"],
      "defines": [
        "NAPI_VERSION=9",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-fno-exceptions"],
      # System libbpf (Debian libbpf-dev), found through pkg-config.
      "cflags": ["<!@(pkg-config --cflags libbpf)"],
      "libraries": ["<!@(pkg-config --libs libbpf)"]
    }
  ]
}
