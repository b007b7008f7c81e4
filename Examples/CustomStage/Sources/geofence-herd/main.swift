import Geofence
import HerdCLI
import HerdKit

// The whole herd command line, plus one stage: `geofence`. Every command (up, serve, send, check, ...)
// works as in `herd`, and a config can now place `geofence` in its pipeline (see herd.yaml).
var registry = HerdRegistry.standard
GeofenceStage.register(in: &registry)
await HerdCLI.main(registry: registry)
