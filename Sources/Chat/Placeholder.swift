// Placeholder so the target builds; replaced by the Chat implementation.
