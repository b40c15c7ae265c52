package org.terra;

/** A failed terra call: the C API's status code and its message (which names file, tensor or value). */
public final class TerraException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public TerraException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The terra_status value: 1 invalid argument, 2 I/O, 3 corrupt model, 4 unsupported, 5 out of range, ... */
  public int status() {
    return status;
  }
}
