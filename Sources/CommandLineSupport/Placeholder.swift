// Placeholder so the target builds; replaced by the CommandLineSupport implementation.
