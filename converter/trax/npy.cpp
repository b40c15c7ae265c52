#include "trax/npy.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace terra::trax {

namespace {

Status bad(const std::string& name, const std::string& what) {
  return Status::Error(ErrorCode::kCorruptModel, name + ": " + what);
}

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (64, 128), }
bool header_value(const std::string& h, const std::string& key, std::string* out) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t i = h.find(':', k);
  if (i == std::string::npos) return false;
  ++i;
  while (i < h.size() && h[i] == ' ') ++i;
  size_t j = i;
  if (i < h.size() && (h[i] == '\'' || h[i] == '"')) {
    j = h.find(h[i], i + 1);
    if (j == std::string::npos) return false;
    *out = h.substr(i + 1, j - i - 1);
    return true;
  }
  if (i < h.size() && h[i] == '(') {
    j = h.find(')', i);
    if (j == std::string::npos) return false;
    *out = h.substr(i + 1, j - i - 1);
    return true;
  }
  while (j < h.size() && h[j] != ',' && h[j] != '}') ++j;
  *out = h.substr(i, j - i);
  while (!out->empty() && out->back() == ' ') out->pop_back();
  return true;
}

int64_t item_size(const std::string& dtype) {
  if (dtype.size() < 3 || (dtype[0] != '<' && dtype[0] != '|' && dtype[0] != '=')) return 0;  // little-endian only
  const std::string t = dtype.substr(1);
  if (t == "f4" || t == "i4" || t == "u4") return 4;
  if (t == "f2" || t == "u2" || t == "i2") return 2;
  if (t == "f8" || t == "i8" || t == "u8") return 8;
  if (t == "u1" || t == "i1" || t == "b1") return 1;
  return 0;
}

}  // namespace

Result<std::vector<NpyRecord>> parse_npy_records(const uint8_t* data, size_t size, const std::string& name) {
  std::vector<NpyRecord> records;
  size_t at = 0;
  while (at < size) {
    const std::string where = "record " + std::to_string(records.size()) + " (byte " + std::to_string(at) + ")";
    if (size - at < 10 || std::memcmp(data + at, "\x93NUMPY", 6) != 0) {
      return bad(name, where + " is not an NPY record (truncated or damaged)");
    }
    const uint8_t major = data[at + 6];
    size_t header_len = 0, header_at = 0;
    if (major == 1) {
      header_len = size_t(data[at + 8]) | size_t(data[at + 9]) << 8;
      header_at = at + 10;
    } else if (major == 2 || major == 3) {
      if (size - at < 12) return bad(name, where + " is truncated");
      header_len = size_t(data[at + 8]) | size_t(data[at + 9]) << 8 | size_t(data[at + 10]) << 16 |
                   size_t(data[at + 11]) << 24;
      header_at = at + 12;
    } else {
      return bad(name, where + " has NPY version " + std::to_string(major));
    }
    if (header_len > size - header_at || header_len > (size_t(1) << 20)) return bad(name, where + ": its header runs past the end");
    const std::string h(reinterpret_cast<const char*>(data + header_at), header_len);
    NpyRecord r;
    std::string fortran, shape;
    if (!header_value(h, "descr", &r.dtype) || !header_value(h, "fortran_order", &fortran) ||
        !header_value(h, "shape", &shape)) {
      return bad(name, where + ": the header is not an NPY header");
    }
    r.fortran = fortran == "True";
    uint64_t elements = 1;
    for (size_t i = 0; i < shape.size();) {
      while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
      if (i == shape.size()) break;
      char* end = nullptr;
      errno = 0;
      const long long dim = std::strtoll(shape.c_str() + i, &end, 10);
      if (end == shape.c_str() + i || errno != 0 || dim < 0 || dim > (1ll << 40) ||
          (dim > 0 && elements > (uint64_t(1) << 62) / uint64_t(dim))) {
        return bad(name, where + ": bad shape (" + shape.substr(0, 60) + ")");
      }
      elements *= uint64_t(dim);
      r.shape.push_back(dim);
      i = size_t(end - shape.c_str());
    }
    const int64_t item = item_size(r.dtype);
    if (item == 0) return bad(name, where + " has dtype '" + r.dtype.substr(0, 20) + "' (terra reads little-endian floats and ints)");
    const size_t body = header_at + header_len;
    if (elements > (uint64_t(1) << 62) / uint64_t(item) || elements * uint64_t(item) > size - body) {
      return bad(name, where + ": its data runs past the end of the file (truncated?)");
    }
    r.data = data + body;
    r.bytes = elements * uint64_t(item);
    at = body + size_t(r.bytes);
    records.push_back(std::move(r));
  }
  return records;
}

namespace {

// Inflates gzip members from `next(...)` chunks into `out`.
class Inflater {
 public:
  explicit Inflater(std::string name) : name_(std::move(name)) {
    std::memset(&z_, 0, sizeof z_);
    ok_ = inflateInit2(&z_, 16 + MAX_WBITS) == Z_OK;
  }
  ~Inflater() {
    if (ok_) inflateEnd(&z_);
  }
  // Feeds input; calls sink(bytes, n) with output. `last`: no more input follows.
  template <typename Sink>
  Status feed(const uint8_t* in, size_t n, bool last, Sink&& sink) {
    if (!ok_) return bad(name_, "cannot start zlib");
    z_.next_in = const_cast<Bytef*>(in);
    z_.avail_in = uInt(n);
    uint8_t buf[1 << 16];
    while (z_.avail_in > 0 || (last && !ended_)) {
      if (ended_) {  // another gzip member follows
        if (inflateReset(&z_) != Z_OK) return bad(name_, "cannot restart zlib");
        ended_ = false;
      }
      z_.next_out = buf;
      z_.avail_out = sizeof buf;
      const int r = inflate(&z_, Z_NO_FLUSH);
      const size_t got = sizeof buf - z_.avail_out;
      if (got > 0) TERRA_RETURN_IF_ERROR(sink(buf, got));
      if (r == Z_STREAM_END) {
        ended_ = true;
        if (z_.avail_in == 0) break;
        continue;
      }
      if (r == Z_BUF_ERROR && z_.avail_in == 0) {
        if (last) return bad(name_, "the gzip stream is truncated");
        break;
      }
      if (r != Z_OK) {
        return bad(name_, std::string("not a valid gzip stream (") + (z_.msg ? z_.msg : "zlib error") + ")");
      }
    }
    if (last && !ended_) return bad(name_, "the gzip stream is truncated");
    return Status::Ok();
  }

 private:
  z_stream z_;
  bool ok_ = false, ended_ = false;
  std::string name_;
};

// An unlinked temporary file in $TMPDIR (or /tmp) for the decompressed stream.
Result<FILE*> temp_file() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/terra-trax-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return Status::Error(ErrorCode::kIo, path + ": cannot create a temporary file: " + std::strerror(errno));
  std::remove(path.c_str());
  FILE* f = fdopen(fd, "w+b");
  if (f == nullptr) return Status::Error(ErrorCode::kIo, "cannot open a temporary file");
  return f;
}

Result<std::unique_ptr<platform::MappedFile>> map_temp(FILE* f, const std::string& name) {
  if (std::fflush(f) != 0) {
    std::fclose(f);
    return Status::Error(ErrorCode::kIo, name + ": cannot write the decompressed weights: " + std::strerror(errno));
  }
  const long size = std::ftell(f);
  auto mapped = platform::MappedFile::open_descriptor(fileno(f), 0, uint64_t(size < 0 ? 0 : size), name);
  std::fclose(f);  // the mapping stays valid
  return mapped;
}

}  // namespace

Result<std::unique_ptr<GzipFile>> GzipFile::open(const std::string& path) {
  FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) return Status::Error(ErrorCode::kIo, path + ": cannot open: " + std::strerror(errno));
  auto out = temp_file();
  if (!out.ok()) {
    std::fclose(in);
    return out.status();
  }
  Inflater z(path);
  std::vector<uint8_t> chunk(1 << 20);
  Status s;
  auto sink = [&](const uint8_t* p, size_t n) {
    return std::fwrite(p, 1, n, out.value()) == n
               ? Status::Ok()
               : Status::Error(ErrorCode::kIo, path + ": cannot write the decompressed weights (disk full?)");
  };
  for (;;) {
    const size_t n = std::fread(chunk.data(), 1, chunk.size(), in);
    const bool last = n < chunk.size();
    s = z.feed(chunk.data(), n, last, sink);
    if (!s.ok() || last) break;
  }
  std::fclose(in);
  if (!s.ok()) {
    std::fclose(out.value());
    return s;
  }
  TERRA_ASSIGN_OR_RETURN(auto mapped, map_temp(out.value(), path));
  std::unique_ptr<GzipFile> g(new GzipFile());
  g->map_ = std::move(mapped);
  return g;
}

Result<std::unique_ptr<GzipFile>> GzipFile::from_memory(const uint8_t* data, size_t size, const std::string& name) {
  TERRA_ASSIGN_OR_RETURN(auto out, temp_file());
  Inflater z(name);
  uint64_t written = 0;
  Status s = z.feed(data, size, true, [&](const uint8_t* p, size_t n) {
    written += n;
    if (written > (uint64_t(1) << 30)) return bad(name, "decompresses to more than 1 GiB");
    return std::fwrite(p, 1, n, out) == n ? Status::Ok() : bad(name, "cannot write");
  });
  if (!s.ok()) {
    std::fclose(out);
    return s;
  }
  TERRA_ASSIGN_OR_RETURN(auto mapped, map_temp(out, name));
  std::unique_ptr<GzipFile> g(new GzipFile());
  g->map_ = std::move(mapped);
  return g;
}

}  // namespace terra::trax
