"""The user's rules: definitions and validation (`model`), when they apply (`schedule`), what
to do about them at a given instant (`engine`, pure), and the service functions the CLI calls
(`manage`)."""
