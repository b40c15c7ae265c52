#include "trax/pickle.h"

#include <cstring>
#include <map>

namespace terra::trax {

int64_t NdArray::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

PyRef PyObject::get(const std::string& key) const {
  if (kind != Kind::kDict) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i]->kind == Kind::kStr && items[i]->text == key) return items[i + 1];
  }
  return nullptr;
}

std::string PyObject::describe() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "a bool";
    case Kind::kInt: return "the int " + std::to_string(integer);
    case Kind::kFloat: return "a float";
    case Kind::kStr: return "the string '" + text.substr(0, 40) + "'";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return "a list of " + std::to_string(items.size());
    case Kind::kTuple: return "a tuple of " + std::to_string(items.size());
    case Kind::kDict: return "a dict";
    case Kind::kSet: return "a set";
    case Kind::kGlobal: return "the class " + text;
    case Kind::kObject: return "an object of " + text;
    case Kind::kArray: return "an array";
    case Kind::kDType: return "a dtype";
  }
  return "?";
}

namespace {

using Kind = PyObject::Kind;


// The classes a trax checkpoint may name; anything else is refused (nothing is ever imported).
enum class Known {
  kReconstruct,   // numpy.core.multiarray._reconstruct: an empty array, filled by BUILD
  kNdarray,       // numpy.ndarray (an argument of _reconstruct)
  kDType,         // numpy.dtype
  kScalar,        // numpy.core.multiarray.scalar: a numpy scalar
  kFromBuffer,    // numpy.core.numeric._frombuffer: an array (protocol 5)
  kJaxArray,      // jax._src.array._reconstruct_array: a jax array, from its numpy state
  kReconstructor, // copyreg._reconstructor: an object of a class, filled by BUILD
  kContainer,     // collections.defaultdict / OrderedDict: a dict
  kBuiltin,       // builtins.list, dict, ... (as values, e.g. a defaultdict's factory)
  kStub,          // trax.shapes.ShapeDtype, trax.supervised.history.History, object: plain objects
};

bool known(const std::string& module, const std::string& name, Known* k) {
  const bool numpy_core = module == "numpy.core.multiarray" || module == "numpy._core.multiarray";
  const bool numpy_numeric = module == "numpy.core.numeric" || module == "numpy._core.numeric";
  if (numpy_core && name == "_reconstruct") *k = Known::kReconstruct;
  else if (module == "numpy" && name == "ndarray") *k = Known::kNdarray;
  else if (module == "numpy" && name == "dtype") *k = Known::kDType;
  else if (numpy_core && name == "scalar") *k = Known::kScalar;
  else if (numpy_numeric && name == "_frombuffer") *k = Known::kFromBuffer;
  else if ((module == "jax._src.array" || module == "jaxlib.xla_extension") && name == "_reconstruct_array") *k = Known::kJaxArray;
  else if (module == "copyreg" && name == "_reconstructor") *k = Known::kReconstructor;
  else if (module == "collections" && (name == "defaultdict" || name == "OrderedDict")) *k = Known::kContainer;
  else if ((module == "builtins" || module == "__builtin__") &&
           (name == "list" || name == "dict" || name == "tuple" || name == "set" || name == "object" ||
            name == "float" || name == "int" || name == "str")) *k = Known::kBuiltin;
  else if ((module == "trax.shapes" && name == "ShapeDtype") ||
           (module == "trax.supervised.history" && name == "History")) *k = Known::kStub;
  else return false;
  return true;
}

// A numpy type string ("f4", "<u2") from a dtype object's name and byte order.
std::string dtype_string(const PyObject& dtype) {
  if (dtype.kind == Kind::kDType) return dtype.text;
  if (dtype.kind == Kind::kStr) return dtype.text;
  return "";
}

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, std::string name)
      : p_(data), end_(data + size), name_(std::move(name)), tree_(std::make_unique<PickleTree>()) {}

  Result<std::unique_ptr<PickleTree>> run() {
    while (p_ < end_) {
      const uint8_t op = *p_++;
      Status s = step(op);
      if (!s.ok()) return s;
      if (done_) {
        if (stack_.size() != 1) return bad("the pickle ends with " + std::to_string(stack_.size()) + " values");
        tree_->root = stack_.back();
        return std::move(tree_);
      }
    }
    return bad("the pickle ends before its STOP");
  }

 private:
  PyRef make(Kind k) {
    tree_->objects.push_back(std::make_unique<PyObject>());
    tree_->objects.back()->kind = k;
    return tree_->objects.back().get();
  }
  Status bad(const std::string& what) const {
    return Status::Error(ErrorCode::kCorruptModel, name_ + ": " + what);
  }
  bool need(size_t n) const { return size_t(end_ - p_) >= n; }
  template <typename T>
  bool read(T* v) {
    if (!need(sizeof(T))) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool line(std::string* out) {
    const uint8_t* nl = static_cast<const uint8_t*>(std::memchr(p_, '\n', size_t(end_ - p_)));
    if (nl == nullptr) return false;
    out->assign(reinterpret_cast<const char*>(p_), size_t(nl - p_));
    p_ = nl + 1;
    return true;
  }
  Result<PyRef> pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) return bad("the pickle pops an empty stack");
    PyRef v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Result<std::vector<PyRef>> pop_mark() {
    if (marks_.empty()) return bad("the pickle pops a mark it never set");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> items(stack_.begin() + long(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Status push(PyRef v) {
    if (stack_.size() > (size_t(1) << 24) || tree_->objects.size() > (size_t(1) << 26)) {
      return bad("the pickle holds more than 64M values");
    }
    stack_.push_back(std::move(v));
    return Status::Ok();
  }
  Status push_int(int64_t v) {
    PyRef r = make(Kind::kInt);
    r->integer = v;
    return push(r);
  }
  Status push_str(Kind k, uint64_t n) {
    if (!need(size_t(n)) || n > uint64_t(end_ - p_)) return bad("a string runs past the end of the pickle");
    PyRef r = make(k);
    if (k == Kind::kStr) {
      r->text.assign(reinterpret_cast<const char*>(p_), size_t(n));
    } else {
      r->bytes = p_;
      r->size = n;
    }
    p_ += n;
    return push(r);
  }
  Status memo_put(uint64_t index) {
    if (stack_.empty()) return bad("the pickle memoizes from an empty stack");
    if (index > (uint64_t(1) << 28)) return bad("memo index " + std::to_string(index) + " is too large");
    memo_[index] = stack_.back();
    return Status::Ok();
  }
  Status memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return bad("the pickle reads memo " + std::to_string(index) + ", never written");
    return push(it->second);
  }
  Status global(const std::string& module, const std::string& name) {
    Known k;
    if (!known(module, name, &k)) {
      return bad("the checkpoint asks for the Python class or function " + module + "." + name +
                 ", which terra does not load (pickled code is never run)");
    }
    PyRef g = make(Kind::kGlobal);
    g->text = module + "." + name;
    g->integer = int64_t(k);  // which allowed class or function it is
    return push(g);
  }
  // Calls an allowed global with a tuple of arguments (REDUCE, NEWOBJ).
  Result<PyRef> call(const PyRef& fn, const PyRef& args) {
    if (fn->kind != Kind::kGlobal) return bad("the pickle calls " + fn->describe() + ", which is not callable here");
    if (args->kind != Kind::kTuple) return bad("the pickle calls " + fn->text + " with " + args->describe());
    const Known known_fn = Known(fn->integer);
    const std::vector<PyRef>& a = args->items;
    switch (known_fn) {
      case Known::kReconstruct: {
        PyRef r = make(Kind::kArray);
        return r;
      }
      case Known::kDType: {
        if (a.empty() || a[0]->kind != Kind::kStr) return bad("numpy.dtype is given " + args->describe());
        PyRef r = make(Kind::kDType);
        r->text = a[0]->text;
        return r;
      }
      case Known::kScalar: {
        if (a.size() != 2 || a[0]->kind != Kind::kDType || a[1]->kind != Kind::kBytes) {
          return bad("a numpy scalar is given " + args->describe());
        }
        return scalar(a[0]->text, a[1]->bytes, a[1]->size);
      }
      case Known::kFromBuffer: {  // (buffer, dtype, shape, order)
        if (a.size() != 4 || a[0]->kind != Kind::kBytes || a[2]->kind != Kind::kTuple) {
          return bad("numpy _frombuffer is given " + args->describe());
        }
        PyRef r = make(Kind::kArray);
        TERRA_RETURN_IF_ERROR(fill_array(r, a[2], a[1], a[3]->kind == Kind::kStr && a[3]->text == "F", a[0]));
        return r;
      }
      case Known::kJaxArray: {  // (fun, args, arr_state, aval_state): a numpy array's state
        if (a.size() < 3) return bad("a jax array is given " + args->describe());
        PyRef r = make(Kind::kArray);
        TERRA_RETURN_IF_ERROR(build_array(r, a[2]));
        return r;
      }
      case Known::kContainer: {
        return make(Kind::kDict);
      }
      case Known::kReconstructor:
      case Known::kStub:
      case Known::kBuiltin:
      case Known::kNdarray: {
        PyRef r = make(Kind::kObject);
        r->text = known_fn == Known::kReconstructor && !a.empty() ? a[0]->text : fn->text;
        r->args = args;
        return r;
      }
    }
    return bad("unreachable");
  }
  // A numpy scalar (as in training history): floats and integers are kept, others become None.
  Result<PyRef> scalar(const std::string& dtype, const uint8_t* data, uint64_t size) {
    const std::string t = type_code(dtype);
    PyRef r = make(Kind::kNone);
    if (t == "f8" && size == 8) {
      r->kind = Kind::kFloat;
      std::memcpy(&r->number, data, 8);
    } else if (t == "f4" && size == 4) {
      float f;
      std::memcpy(&f, data, 4);
      r->kind = Kind::kFloat;
      r->number = f;
    } else if ((t[0] == 'i' || t[0] == 'u') && size >= 1 && size <= 8) {
      uint64_t v = 0;
      std::memcpy(&v, data, size_t(size));
      r->kind = Kind::kInt;
      r->integer = int64_t(v);
    }
    return r;
  }
  // "f4" from "<f4", "|u1", "=i8".
  static std::string type_code(const std::string& dtype) {
    size_t i = 0;
    while (i < dtype.size() && (dtype[i] == '<' || dtype[i] == '>' || dtype[i] == '|' || dtype[i] == '=')) ++i;
    const std::string t = dtype.substr(i);
    return t.empty() ? "?" : t;
  }
  static int64_t item_size(const std::string& dtype) {
    const std::string t = type_code(dtype);
    if (t == "?" || t == "b1") return 1;
    if (t.size() < 2 || (t[0] != 'f' && t[0] != 'i' && t[0] != 'u' && t[0] != 'b' && t[0] != 'V')) return 0;
    int64_t n = 0;
    for (size_t j = 1; j < t.size(); ++j) {
      if (t[j] < '0' || t[j] > '9' || n > 1024) return 0;
      n = n * 10 + (t[j] - '0');
    }
    return n;
  }
  // An array from its shape tuple, dtype, order and raw bytes; the byte count must match.
  Status fill_array(PyObject* r, const PyRef& shape, const PyRef& dtype, bool fortran, const PyRef& raw) {
    r->kind = Kind::kArray;
    r->array.dtype = dtype_string(*dtype);
    r->array.fortran = fortran;
    r->array.shape.clear();
    uint64_t elements = 1;
    for (const PyRef& d : shape->items) {
      if (d->kind != Kind::kInt || d->integer < 0 || d->integer > (int64_t(1) << 40)) return bad("an array has a bad dimension");
      if (d->integer > 0 && elements > (uint64_t(1) << 62) / uint64_t(d->integer)) return bad("an array is too large");
      elements *= uint64_t(d->integer);
      r->array.shape.push_back(d->integer);
    }
    const int64_t item = item_size(r->array.dtype);
    if (item <= 0) return bad("an array has the unsupported dtype '" + r->array.dtype + "'");
    if (raw->kind != Kind::kBytes) return bad("an array's data is " + raw->describe() + ", not bytes");
    if (elements > (uint64_t(1) << 62) / uint64_t(item) || raw->size != elements * uint64_t(item)) {
      return bad("an array of shape " + std::to_string(r->array.shape.size()) + " dims holds " +
                 std::to_string(raw->size) + " bytes, its shape and dtype need " +
                 std::to_string(elements * uint64_t(item)));
    }
    r->array.data = raw->bytes;
    r->array.bytes = raw->size;
    return Status::Ok();
  }
  // ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata)).
  Status build_array(PyObject* r, const PyRef& state) {
    if (state->kind != Kind::kTuple || state->items.size() < 5) return bad("an array's state is " + state->describe());
    const std::vector<PyRef>& s = state->items;
    if (s[1]->kind != Kind::kTuple || s[2]->kind != Kind::kDType) return bad("an array's state has no shape or dtype");
    return fill_array(r, s[1], s[2], s[3]->kind == Kind::kBool && s[3]->boolean, s[4]);
  }
  Status build(const PyRef& obj, const PyRef& state) {
    if (obj->kind == Kind::kArray) return build_array(obj, state);
    if (obj->kind == Kind::kDType) {  // (version, byte order, ...)
      if (state->kind == Kind::kTuple && state->items.size() >= 2 && state->items[1]->kind == Kind::kStr) {
        const std::string& order = state->items[1]->text;
        obj->text = (order == "=" ? "<" : order) + obj->text;
      }
      return Status::Ok();
    }
    if (obj->kind == Kind::kObject || obj->kind == Kind::kDict) {
      obj->state = state;
      return Status::Ok();
    }
    return bad("the pickle sets the state of " + obj->describe());
  }

  Status step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        uint8_t v;
        if (!read(&v)) return bad("truncated PROTO");
        if (v > 5) return bad("pickle protocol " + std::to_string(v) + " is newer than 5");
        return Status::Ok();
      }
      case 0x95: {  // FRAME
        uint64_t n;
        return read(&n) ? Status::Ok() : bad("truncated FRAME");
      }
      case '.':  // STOP
        done_ = true;
        return Status::Ok();
      case '(':  // MARK
        if (marks_.size() > (size_t(1) << 20)) return bad("too many nested marks");
        marks_.push_back(stack_.size());
        return Status::Ok();
      case '0': {  // POP
        auto v = pop();
        return v.ok() ? Status::Ok() : v.status();
      }
      case '1': {  // POP_MARK
        auto v = pop_mark();
        return v.ok() ? Status::Ok() : v.status();
      }
      case '2':  // DUP
        if (stack_.empty()) return bad("DUP of an empty stack");
        return push(stack_.back());
      case 'N': return push(make(Kind::kNone));
      case 0x88:
      case 0x89: {  // NEWTRUE, NEWFALSE
        PyRef r = make(Kind::kBool);
        r->boolean = op == 0x88;
        return push(r);
      }
      case 'J': {  // BININT
        int32_t v;
        return read(&v) ? push_int(v) : bad("truncated BININT");
      }
      case 'K': {  // BININT1
        uint8_t v;
        return read(&v) ? push_int(v) : bad("truncated BININT1");
      }
      case 'M': {  // BININT2
        uint16_t v;
        return read(&v) ? push_int(v) : bad("truncated BININT2");
      }
      case 0x8a:  // LONG1
      case 0x8b: {  // LONG4
        uint32_t n = 0;
        if (op == 0x8a) {
          uint8_t n1;
          if (!read(&n1)) return bad("truncated LONG1");
          n = n1;
        } else if (!read(&n)) {
          return bad("truncated LONG4");
        }
        if (n > 8 || !need(n)) return bad("an integer of " + std::to_string(n) + " bytes");
        uint64_t v = 0;
        for (uint32_t i = 0; i < n; ++i) v |= uint64_t(p_[i]) << (8 * i);
        if (n > 0 && n < 8 && (p_[n - 1] & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
        p_ += n;
        return push_int(int64_t(v));
      }
      case 'I': {  // INT (text; "01"/"00" are True/False)
        std::string s;
        if (!line(&s)) return bad("truncated INT");
        if (s == "01" || s == "00") {
          PyRef r = make(Kind::kBool);
          r->boolean = s == "01";
          return push(r);
        }
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (end == s.c_str()) return bad("INT '" + s.substr(0, 20) + "'");
        return push_int(v);
      }
      case 'G': {  // BINFLOAT, big-endian
        if (!need(8)) return bad("truncated BINFLOAT");
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p_[i];
        p_ += 8;
        PyRef r = make(Kind::kFloat);
        std::memcpy(&r->number, &bits, 8);
        return push(r);
      }
      case 0x8c: {  // SHORT_BINUNICODE
        uint8_t n;
        return read(&n) ? push_str(Kind::kStr, n) : bad("truncated string");
      }
      case 'X': {  // BINUNICODE
        uint32_t n;
        return read(&n) ? push_str(Kind::kStr, n) : bad("truncated string");
      }
      case 0x8d: {  // BINUNICODE8
        uint64_t n;
        return read(&n) ? push_str(Kind::kStr, n) : bad("truncated string");
      }
      case 'U': {  // SHORT_BINSTRING (protocol 2 str)
        uint8_t n;
        return read(&n) ? push_str(Kind::kStr, n) : bad("truncated string");
      }
      case 'T': {  // BINSTRING
        uint32_t n;
        return read(&n) ? push_str(Kind::kStr, n) : bad("truncated string");
      }
      case 'C': {  // SHORT_BINBYTES
        uint8_t n;
        return read(&n) ? push_str(Kind::kBytes, n) : bad("truncated bytes");
      }
      case 'B': {  // BINBYTES
        uint32_t n;
        return read(&n) ? push_str(Kind::kBytes, n) : bad("truncated bytes");
      }
      case 0x8e:  // BINBYTES8
      case 0x96: {  // BYTEARRAY8
        uint64_t n;
        return read(&n) ? push_str(Kind::kBytes, n) : bad("truncated bytes");
      }
      case ']': return push(make(Kind::kList));
      case ')': return push(make(Kind::kTuple));
      case '}': return push(make(Kind::kDict));
      case 0x8f: return push(make(Kind::kSet));  // EMPTY_SET
      case 'a': {  // APPEND
        TERRA_ASSIGN_OR_RETURN(auto v, pop());
        if (stack_.empty() || stack_.back()->kind != Kind::kList) return bad("APPEND to something not a list");
        stack_.back()->items.push_back(v);
        return Status::Ok();
      }
      case 'e':  // APPENDS
      case 0x90: {  // ADDITEMS
        auto items = pop_mark();
        if (!items.ok()) return items.status();
        const Kind want = op == 'e' ? Kind::kList : Kind::kSet;
        if (stack_.empty() || stack_.back()->kind != want) return bad("APPENDS to something not a list or set");
        auto& dst = stack_.back()->items;
        dst.insert(dst.end(), items.value().begin(), items.value().end());
        return Status::Ok();
      }
      case 'l':  // LIST
      case 't':  // TUPLE
      case 0x91: {  // FROZENSET
        auto items = pop_mark();
        if (!items.ok()) return items.status();
        PyRef r = make(op == 'l' ? Kind::kList : op == 't' ? Kind::kTuple : Kind::kSet);
        r->items = items.take();
        return push(r);
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = size_t(op - 0x84);
        if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back())) return bad("TUPLE of an empty stack");
        PyRef r = make(Kind::kTuple);
        r->items.assign(stack_.end() - long(n), stack_.end());
        stack_.resize(stack_.size() - n);
        return push(r);
      }
      case 'd': {  // DICT
        auto items = pop_mark();
        if (!items.ok()) return items.status();
        if (items.value().size() % 2) return bad("DICT of an odd number of values");
        PyRef r = make(Kind::kDict);
        r->items = items.take();
        return push(r);
      }
      case 's': {  // SETITEM
        TERRA_ASSIGN_OR_RETURN(auto v, pop());
        TERRA_ASSIGN_OR_RETURN(auto k, pop());
        if (stack_.empty() || stack_.back()->kind != Kind::kDict) return bad("SETITEM on something not a dict");
        stack_.back()->items.push_back(k);
        stack_.back()->items.push_back(v);
        return Status::Ok();
      }
      case 'u': {  // SETITEMS
        auto items = pop_mark();
        if (!items.ok()) return items.status();
        if (items.value().size() % 2) return bad("SETITEMS of an odd number of values");
        if (stack_.empty() || stack_.back()->kind != Kind::kDict) return bad("SETITEMS on something not a dict");
        auto& dst = stack_.back()->items;
        dst.insert(dst.end(), items.value().begin(), items.value().end());
        return Status::Ok();
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module, name;
        if (!line(&module) || !line(&name)) return bad("truncated GLOBAL");
        return global(module, name);
      }
      case 0x93: {  // STACK_GLOBAL
        TERRA_ASSIGN_OR_RETURN(auto name, pop());
        TERRA_ASSIGN_OR_RETURN(auto module, pop());
        if (module->kind != Kind::kStr || name->kind != Kind::kStr) return bad("STACK_GLOBAL of non-strings");
        return global(module->text, name->text);
      }
      case 'R':  // REDUCE
      case 0x81: {  // NEWOBJ
        TERRA_ASSIGN_OR_RETURN(auto args, pop());
        TERRA_ASSIGN_OR_RETURN(auto fn, pop());
        TERRA_ASSIGN_OR_RETURN(auto r, call(fn, args));
        return push(r);
      }
      case 0x92: {  // NEWOBJ_EX
        auto kwargs = pop();
        if (!kwargs.ok()) return kwargs.status();
        TERRA_ASSIGN_OR_RETURN(auto args, pop());
        TERRA_ASSIGN_OR_RETURN(auto fn, pop());
        TERRA_ASSIGN_OR_RETURN(auto r, call(fn, args));
        return push(r);
      }
      case 'b': {  // BUILD
        TERRA_ASSIGN_OR_RETURN(auto state, pop());
        if (stack_.empty()) return bad("BUILD on an empty stack");
        return build(stack_.back(), state);
      }
      case 'p': {  // PUT (text)
        std::string s;
        if (!line(&s)) return bad("truncated PUT");
        return memo_put(std::strtoull(s.c_str(), nullptr, 10));
      }
      case 'q': {  // BINPUT
        uint8_t i;
        return read(&i) ? memo_put(i) : bad("truncated BINPUT");
      }
      case 'r': {  // LONG_BINPUT
        uint32_t i;
        return read(&i) ? memo_put(i) : bad("truncated LONG_BINPUT");
      }
      case 0x94:  // MEMOIZE
        return memo_put(memo_.size());
      case 'g': {  // GET (text)
        std::string s;
        if (!line(&s)) return bad("truncated GET");
        return memo_get(std::strtoull(s.c_str(), nullptr, 10));
      }
      case 'h': {  // BINGET
        uint8_t i;
        return read(&i) ? memo_get(i) : bad("truncated BINGET");
      }
      case 'j': {  // LONG_BINGET
        uint32_t i;
        return read(&i) ? memo_get(i) : bad("truncated LONG_BINGET");
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        return bad(std::string("the pickle uses opcode ") + hex + ", which terra does not read");
      }
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
  std::string name_;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PyRef> memo_;
  bool done_ = false;
  std::unique_ptr<PickleTree> tree_;
};

}  // namespace

Result<std::unique_ptr<PickleTree>> unpickle(const uint8_t* data, size_t size, const std::string& name) {
  return Unpickler(data, size, name).run();
}

}  // namespace terra::trax
