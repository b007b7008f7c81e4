import CSVPlaces
import HerdCLI
import HerdKit

// The whole herd command line, plus one place provider: `csv`. Every command (up, serve, send, check, ...)
// works as in `herd`, and a config can now choose `provider: {name: csv, options: {file: places.csv}}`.
var registry = HerdRegistry.standard
CSVPlaceProvider.register(in: &registry)
await HerdCLI.main(registry: registry)
