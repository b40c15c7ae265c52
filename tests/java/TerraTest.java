// The Java binding on this machine's JVM: the same JNI bridge an Android app loads.
// java -cp CLASSES:. TerraTest LIBTERRA_JNI.so MODEL.terra
import java.util.ArrayList;
import java.util.List;
import org.terra.Terra;
import org.terra.TerraException;

public class TerraTest {
  static int failures = 0;

  static void check(boolean ok, String what) {
    if (!ok) {
      System.err.println("check failed: " + what);
      failures++;
    }
  }

  public static void main(String[] args) throws Exception {
    System.load(args[0]);
    System.out.println("terra " + Terra.version() + " on Java " + System.getProperty("java.version"));

    try {
      Terra.Model.load("/no/such/model.terra");
      check(false, "a missing file throws");
    } catch (TerraException e) {
      check(e.status() == 2 && e.getMessage().contains("/no/such/model.terra"), "I/O error names the file: " + e);
    }

    try (Terra.Model model = Terra.Model.load(args[1]);
        Terra.Session session = new Terra.Session(model, 2, 128)) {
      String phrase = "In the beginning God created the heaven and the earth.";
      int[] ids = model.tokenize(phrase);
      check(ids.length > 0, "tokenize");
      check(model.detokenize(ids).equals(phrase), "detokenize(tokenize(text)) == text");

      List<Integer> tokens = new ArrayList<>();
      StringBuilder text = new StringBuilder();
      int n = session.generate("And God said", 40, Terra.Sampling.greedy(), (token, piece) -> {
        tokens.add(token);
        text.append(piece);
        return true;
      });
      System.out.println("Java generated: And God said" + text);
      check(n == tokens.size() && n > 0 && n <= 40, "token count");
      check(session.generate("And God said", 40, Terra.Sampling.greedy()).equals(text.toString()),
          "greedy is repeatable");

      // Stopping: the listener's answer, and stop() from another thread.
      int[] seen = {0};
      n = session.generate("And", 30, Terra.Sampling.greedy(), (token, piece) -> ++seen[0] < 4);
      check(n == 4 && seen[0] == 4, "listener returning false stops after 4, got " + n);
      Terra.Sampling sampling = new Terra.Sampling();
      sampling.stopAtEnd = false;
      sampling.seed = 3;
      int[] count = {0};
      n = session.generate("And", 100, sampling, (token, piece) -> {
        if (++count[0] == 6) {
          Thread t = new Thread(session::stop);
          t.start();
          try {
            t.join();
          } catch (InterruptedException e) {
            throw new RuntimeException(e);
          }
        }
        return true;
      });
      check(n == 6, "stop() from another thread stops before the next token, got " + n);

      try {
        session.generate("And", 1000, sampling);
        check(false, "a too-long request throws");
      } catch (TerraException e) {
        check(e.status() == 5 && e.getMessage().contains("context of 128"), "out of range names the context: " + e);
      }
      check(!session.generate("And", 8, sampling).isEmpty(), "the session still works after an error");
    }
    if (failures > 0) {
      System.err.println(failures + " checks failed");
      System.exit(1);
    }
    System.out.println("Java binding: all checks passed");
  }
}
