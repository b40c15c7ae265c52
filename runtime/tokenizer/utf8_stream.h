// Turns a stream of bytes, arriving one token at a time, into text safe to print: complete UTF-8
// sequences pass through (also when split across tokens), invalid bytes and terminal control
// characters become U+FFFD. Needed because byte-level models can emit any byte.
#pragma once

#include <string>

namespace terra {

class Utf8Stream {
 public:
  // Appends the printable text completed by `byte` to out.
  void push(unsigned char byte, std::string* out);
  // Flushes an unfinished sequence at the end of the stream.
  void finish(std::string* out);

 private:
  std::string pending_;
  int needed_ = 0;  // continuation bytes still expected
};

}  // namespace terra
