package org.terra;

import java.nio.charset.StandardCharsets;

/**
 * terra for Java and Android: {@link Model} (a mapped model file) and {@link Session} (one
 * sequence's state, planned at creation) over the native library libterra_jni, which calls the C
 * API. Load it first: {@code System.loadLibrary("terra_jni")} (Android) or {@code System.load(path)}.
 *
 * <pre>
 * try (Terra.Model model = Terra.Model.load("/data/local/tmp/kjv-sparse.terra");
 *      Terra.Session session = new Terra.Session(model, 2, 256)) {
 *   session.generate("And God said", 64, Terra.Sampling.greedy(), (token, text) -> {
 *     System.out.print(text);
 *     return true;  // false stops
 *   });
 * }
 * </pre>
 */
public final class Terra {
  private Terra() {}

  /** Called with each generated token and the text it completes; return false to stop. */
  public interface TokenListener {
    boolean onToken(int token, String text);
  }

  /** Sampling parameters; the same seed gives the same text. */
  public static final class Sampling {
    public float temperature = 0.8f; // 0 = greedy
    public int topK = 40; // 0 = all tokens
    public float topP = 0.95f;
    public long seed = 0;
    public boolean stopAtEnd = true;

    public static Sampling greedy() {
      Sampling s = new Sampling();
      s.temperature = 0;
      return s;
    }
  }

  /** A model file, mapped read-only; shareable by sessions on several threads. */
  public static final class Model implements AutoCloseable {
    long handle;

    private Model(long handle) {
      this.handle = handle;
    }

    public static Model load(String path) {
      return new Model(modelLoad(path));
    }

    /** A model stored uncompressed inside an APK: AssetFileDescriptor's fd, start offset and length. */
    public static Model load(int fd, long offset, long length) {
      return new Model(modelLoadFd(fd, offset, length));
    }

    public int vocabSize() {
      return modelVocabSize(live());
    }

    public int[] tokenize(String text) {
      return Terra.tokenize(live(), text);
    }

    public String detokenize(int[] ids) {
      return new String(Terra.detokenize(live(), ids), StandardCharsets.UTF_8);
    }

    long live() {
      if (handle == 0) throw new IllegalStateException("terra model already closed");
      return handle;
    }

    @Override
    public void close() {
      modelFree(handle);
      handle = 0;
    }
  }

  /** One sequence's state; all memory is planned here, generation allocates nothing natively. */
  public static final class Session implements AutoCloseable {
    private long handle;
    private final Model model; // kept alive as long as the session
    private TokenListener listener;

    /** maxContext: positions planned (prompt + generated); 0 = the model's trained length. */
    public Session(Model model, int threads, int maxContext) {
      this(model, threads, maxContext, false);
    }

    /** pinThreads: run on the fastest cores (the big cores of a big.LITTLE phone). */
    public Session(Model model, int threads, int maxContext, boolean pinThreads) {
      this.model = model;
      this.handle = sessionCreate(model.live(), threads, maxContext, pinThreads);
    }

    /** Generates up to maxTokens after the prompt; returns the number of tokens generated. */
    public int generate(String prompt, int maxTokens, Sampling sampling, TokenListener listener) {
      if (handle == 0) throw new IllegalStateException("terra session already closed");
      this.listener = listener;
      try {
        return Terra.generate(handle, prompt, maxTokens, sampling.temperature, sampling.topK, sampling.topP,
            sampling.seed, sampling.stopAtEnd, this);
      } finally {
        this.listener = null;
      }
    }

    /** Generates and returns the text. */
    public String generate(String prompt, int maxTokens, Sampling sampling) {
      StringBuilder text = new StringBuilder();
      generate(prompt, maxTokens, sampling, (token, piece) -> {
        text.append(piece);
        return true;
      });
      return text.toString();
    }

    /** Stops a running generate() before its next token; callable from any thread. */
    public void stop() {
      sessionStop(handle);
    }

    // Called from native code once per token.
    private boolean deliver(int token, byte[] utf8) {
      return listener == null || listener.onToken(token, new String(utf8, StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
      sessionFree(handle);
      handle = 0;
    }
  }

  public static native String version();

  static native long modelLoad(String path);

  static native long modelLoadFd(int fd, long offset, long length);

  static native void modelFree(long model);

  static native int modelVocabSize(long model);

  static native int[] tokenize(long model, String text);

  static native byte[] detokenize(long model, int[] ids);

  static native long sessionCreate(long model, int threads, int maxContext, boolean pin);

  static native void sessionFree(long session);

  static native void sessionStop(long session);

  static native int generate(long session, String prompt, int maxTokens, float temperature, int topK, float topP,
      long seed, boolean stopAtEnd, Session target);
}
