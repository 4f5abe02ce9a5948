// Placeholder so the target builds; replaced by the Relay implementation.
