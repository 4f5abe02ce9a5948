// Placeholder so the target builds; replaced by the Transport implementation.
