import Audit
import Geofence
import HerdCLI
import HerdKit

// The whole herd command line, plus two stages: `geofence` and `audit`. Every command (up, serve, send,
// check, ...) works as in `herd`, and a config can now place them in its pipeline (see herd.yaml).
var registry = HerdRegistry.standard
GeofenceStage.register(in: &registry)
AuditStage.register(in: &registry)
await HerdCLI.main(registry: registry)
