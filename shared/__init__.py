"""Code that two or more booksnap processes share: model, codec, config, logging, lifecycle."""
