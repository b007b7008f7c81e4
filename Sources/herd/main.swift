import HerdCLI

// The stock herd: every command with the standard parts. A custom herd registers its own parts first
// (see Examples/ and Docs/extending.md).
await HerdCLI.main(registry: .standard)
